#!/usr/bin/env bash
# Creates or updates the Python virtual environment used by the end-to-end suites.
#
#   scripts/e2e-env.sh          # .venv in the repository root
#   .venv/bin/pytest Tests/EndToEnd
#
# Idempotent: when the venv exists and the requirements file has not changed since
# the last successful install, it prints nothing and exits at once.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${WHARF_E2E_VENV:-$root/.venv}"
requirements="$root/Tests/EndToEnd/requirements.txt"
stamp="$venv/.e2e-requirements.sha256"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "e2e-env: creating $venv"
    "$python" -m venv "$venv"
fi

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] \
    && "$venv/bin/python" -c 'import paho.mqtt, pytest, pytest_timeout' 2>/dev/null; then
    exit 0
fi

echo "e2e-env: installing $(basename "$requirements") into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$wanted" > "$stamp"
