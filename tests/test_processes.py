"""The OS process probes the crash-recovery store relies on."""

import os
import subprocess
import sys

from inpaintstudio import processes


def test_this_process_is_alive_and_a_finished_one_is_not():
    assert processes.process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not processes.process_alive(child.pid)
    assert not processes.process_alive(0) and not processes.process_alive(-1)


def test_start_time_is_stable_for_one_process():
    first = processes.process_start(os.getpid())
    assert first == processes.process_start(os.getpid())
    if sys.platform.startswith("linux"):
        assert first is not None and first.startswith("linux:")
