"""The prepared GPU burst (scripts/device_session.sh): its --smoke run takes the same path on the CPU."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

from inpaintstudio.paths import PACKAGE_DIR
from inpaintstudio.training import state as portable

ROOT = PACKAGE_DIR.parent


def _device_train():
    spec = importlib.util.spec_from_file_location("device_train", ROOT / "scripts" / "device_train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_burst_benchmarks_trains_both_families_and_packs_their_state(tmp_path):
    committed = portable.read_info(ROOT / "training-state" / "deepfillv2")
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable}
    command = [
        "bash",
        str(ROOT / "scripts" / "device_session.sh"),
        "--smoke",
        "--photos",
        str(ROOT / "tests" / "fixtures"),
    ]
    # its own process group, so a hang cannot leave the Python child running after the timeout
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = child.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise
    assert child.returncode == 0, output
    bench = json.loads((out / "bench.json").read_text())
    assert bench["median_s"] > 0 and bench["input"] == "256x256"
    report = json.loads((out / "report.json").read_text())
    assert [t["family"] for t in report["training"]] == ["deepfillv2", "srn"]
    assert all(t["to"] == 3 for t in report["training"])
    assert "probe deepfillv2 batch 4" in (out / "log.txt").read_text(), "the batch probe ran"
    with tarfile.open(out / "deepfillv2-state.tar") as tar:
        names = {Path(n).name for n in tar.getnames()}
    assert {portable.STATE_FILE, portable.OPTIM_FILE, portable.LEDGER_FILE} <= names
    # the smoke run never touches the committed state (a training running beside the tests may advance
    # it, but never to the smoke run's tiny network and crops)
    after = portable.read_info(ROOT / "training-state" / "deepfillv2")
    assert (after is None) == (committed is None)
    if after is not None:
        assert after["network"] == committed["network"] and after["settings"]["crop"] == committed["settings"]["crop"]

    # ingest: a state further along replaces the committed one; an older one does not
    root = tmp_path / "repo"
    device_train = _device_train()
    assert device_train.ingest(out, root) == 0
    assert portable.read_info(root / "training-state" / "srn")["step"] == 3
    state = root / "training-state" / "srn" / portable.STATE_FILE
    before = state.read_bytes()
    info = portable.read_info(root / "training-state" / "srn")
    assert info["samples_seen"] > 0
    assert device_train.ingest(out, root) == 0  # the same step again: kept
    assert state.read_bytes() == before
