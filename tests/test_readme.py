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


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end > 0 else None]


def test_layout_names_every_package_and_module():
    layout = _section("## Layout")
    package = ROOT / "imn_export"
    names = [p.name + "/" if p.is_dir() else p.name for p in package.iterdir()
             if p.name not in ("__init__.py", "__pycache__")]
    missing = [n for n in names if n not in layout]
    assert not missing, f"README 'Layout' does not mention imn_export/{missing}"


def _sdk_sources() -> dict[str, list[str]]:
    sdk = ROOT / "sdk"
    return {
        "Python": sorted(p.name for p in (sdk / "python" / "imn_sdk").glob("*.py") if p.name != "__init__.py"),
        "Kotlin": sorted(str(p.relative_to(sdk / "android/src/main/kotlin/org/imn/sdk"))
                         for p in (sdk / "android" / "src" / "main").rglob("*.kt")),
        "Swift": sorted(p.name for p in (sdk / "ios" / "Sources").rglob("*.swift")),
    }


def test_the_sdk_table_lists_every_source_file_and_no_other():
    table = _section("### The three SDKs, module by module")
    rows = [line.split("|")[2:5] for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    named = {lang: set(re.findall(r"[\w/]+\.(?:py|kt|swift)", " ".join(r[i] for r in rows)))
             for i, lang in enumerate(("Python", "Kotlin", "Swift"))}
    for lang, files in _sdk_sources().items():
        assert set(files) <= named[lang], f"{lang} files missing from the README table: {set(files) - named[lang]}"
        anywhere = {p.name for p in (ROOT / "sdk").rglob("*")} | set(files)   # tests' helpers too
        ghosts = {n for n in named[lang] if n.split("/")[-1] not in anywhere}
        assert not ghosts, f"the README table names {lang} files that do not exist: {ghosts}"
