#!/usr/bin/env bash
# Training alongside a working session (README, "Training"). From the repository root:
#   scripts/training_session.sh start [FAMILY]   at the start: builds the extra photos if missing, then resumes
#                                                the committed run in the background (nice 10, THREADS threads)
#   scripts/training_session.sh commit [FAMILY]  at least every hour: scores the newest state, ships it if
#                                                better (a better state is not lost to later steps), commits;
#                                                a family's first weights only after a look (ship_flag)
#   scripts/training_session.sh stop [FAMILY]    before stopping: SIGTERM, waits for the checkpoint, scores
#                                                the state on the validation photos, ships it if better, commits
# PHOTOS (default ../shared/data/photos) and EXTRA (default scratch/extra-photos) name the photo folders;
# THREADS (default 2) the CPU threads it may use: at nice 10 it yields to the session's own work.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:?start, commit or stop}"
family="${2:-deepfillv2}"
PHOTOS="${PHOTOS:-../shared/data/photos}"
EXTRA="${EXTRA:-scratch/extra-photos}"
THREADS="${THREADS:-2}"
BIN=.venv/bin/inpaintstudio
mkdir -p runs
pattern="inpaintstudio train $family --resume"

# A better state replaces shipped weights by itself; a family's FIRST weights replace a classical fill as
# what users get, and scores alone have passed weights that look worse (srn's streaky bands, README): they
# are shipped by hand after looking at scripts/compare_sheet.py, with the command this prints.
ship_flag() {
    if [ -f "models/$family.safetensors" ]; then
        echo --ship
    else
        echo "no $family weights shipped yet: if the rule passes, look at the sheet, then ship with" >&2
        echo "  $BIN train $family --resume --validate --ship --data $PHOTOS --device cpu" >&2
    fi
}

commit_state() {
    git add "training-state/$family"
    if git diff --cached --quiet -- "training-state/$family"; then
        echo "training-state/$family: nothing new to commit"
    else
        local step
        step=$(.venv/bin/python -c "from pathlib import Path; from inpaintstudio.training import state; print(state.read_info(Path('training-state/$family'))['step'])")
        git commit -q -m "$family training state at step $step" -- "training-state/$family" models/ 2>/dev/null \
            || git commit -q -m "$family training state at step $step" -- "training-state/$family"
        echo "committed training-state/$family at step $step"
    fi
}

case "$what" in
start)
    if pgrep -f "$pattern" >/dev/null; then echo "already running"; exit 0; fi
    if [ ! -d "$EXTRA" ]; then .venv/bin/python scripts/build_training_set.py --out "$EXTRA" || echo "extra photos not built; training on $PHOTOS alone"; fi
    data=(--data "$PHOTOS"); [ -d "$EXTRA" ] && data+=(--data "$EXTRA")
    nohup nice -n 10 "$BIN" train "$family" --resume "${data[@]}" --threads "$THREADS" >>"runs/$family.log" 2>&1 &
    echo "training $family in the background (pid $!), log runs/$family.log"
    ;;
commit)
    "$BIN" train "$family" --resume --validate $(ship_flag) --data "$PHOTOS" --device cpu || echo "validation failed; committing the state anyway"
    git add models/ 2>/dev/null || true
    commit_state
    ;;
stop)
    pkill -TERM -f "$pattern" || echo "no training of $family was running"
    for _ in $(seq 1 300); do pgrep -f "$pattern" >/dev/null || break; sleep 1; done
    "$BIN" train "$family" --resume --validate $(ship_flag) --data "$PHOTOS" --device cpu
    git add models/ 2>/dev/null || true
    commit_state
    ;;
*)
    echo "usage: $0 start|commit|stop [FAMILY]" >&2
    exit 2
    ;;
esac
