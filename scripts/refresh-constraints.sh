#!/usr/bin/env bash
# Re-resolve every dependency at today's newest releases and rewrite constraints.txt, then show
# what moved. Usage: scripts/refresh-constraints.sh   (from anywhere; ~3 minutes, needs PyPI)
# Then run the suite on the new set (.ci/run) before committing the file: the exporter's parity
# figures and the SDK's bit-exact tests are what a moved package can change.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
# torch first and pinned: 2.13.0 is the CPU build on local disk; anything newer pulls CUDA wheels.
"$venv/bin/pip" install -q torch==2.13.0
"$venv/bin/pip" install -q -e ".[test]"
new=$(mktemp)
{
  echo "# Every package the README's two commands install, pinned: a commit passes or fails the same"
  echo "# way any day. Used as: pip install -c constraints.txt -e \".[test]\" (.ci/run does)."
  echo "# Refresh with scripts/refresh-constraints.sh (it prints what moved); generated $(date -u +%F)."
  # The editable project itself is not a constraint; torch's local tag (+cpu) is dropped so the
  # pin matches the CPU wheel on disk by version.
  "$venv/bin/pip" freeze --exclude-editable | grep -v '^#' | sed -E 's/^(torch==[^+]+)\+.*/\1/' | sort -f
} > "$new"
if [ -f constraints.txt ]; then
  diff <(grep -v '^#' constraints.txt) <(grep -v '^#' "$new") | grep '^[<>]' \
    | sed -e 's/^</  was/' -e 's/^>/  now/' || echo "nothing moved"
fi
mv "$new" constraints.txt
echo "wrote constraints.txt ($(grep -vc '^#' constraints.txt) packages)"
