#!/usr/bin/env bash
# The GPU burst of a session that is lent a device machine (see scripts/device_train.py and the README's
# Training section). Before the call, here:   python scripts/device_train.py --prepare
# The call (device tool):                     run(command="bash scripts/device_session.sh", carry=[".carry"], timeout_s=600)
# After it, here:                             python scripts/device_train.py --ingest FILES_AT
# --smoke runs the same path on this machine's CPU in about a minute (CI tests it).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/runs/device-out}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && [ "${1:-}" = "--smoke" ] && PY=.venv/bin/python
"$PY" scripts/device_train.py --out "$OUT" "$@" 2>&1 | tee "$OUT/log.txt"
exit "${PIPESTATUS[0]}"
