"""The README's two commands are the ones that work: the test command is what .ci/run runs, both
install the pinned set, and the main job writes nowhere git would pick up."""

import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _two_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Two commands on a fresh machine"):text.index("## Commands")]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_both_commands_install_the_pinned_set():
    main_job, tests = _two_commands()
    for command in (main_job, tests):
        assert "pip install torch==2.13.0" in command and "pip install -c constraints.txt -e" in command
    assert (ROOT / "constraints.txt").is_file()


def test_ci_runs_the_readme_test_command():
    _, tests = _two_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    for step in tests.split(" && ")[1:]:  # after making the venv, which CI does on its own lines
        assert step.strip() in ci, f"{step!r} is not in .ci/run"


def test_main_job_writes_only_ignored_files():
    main_job, _ = _two_commands()
    words = shlex.split(main_job.split(" && ")[-1])
    outputs = [words[i + 1] for i, w in enumerate(words) if w in ("--figure", "--json")]
    assert outputs
    for path in outputs:
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert ignored.returncode == 0, f"the main job leaves {path} in the checkout, not ignored"
