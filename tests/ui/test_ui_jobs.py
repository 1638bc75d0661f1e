"""Jobs on the worker bridge: each submitted job answers through its own handle; remedies in the app's words."""

from __future__ import annotations

import threading

import pytest

from inpaintstudio.engine.context import JobContext
from inpaintstudio.errors import DOWNLOAD, IMPORT, InputError, Remedy, WeightsError
from inpaintstudio.ui.models import app_message, manager_message
from inpaintstudio.ui.worker_bridge import JobHandle, WorkerBridge, describe_error


@pytest.fixture
def bridge():  # noqa: ANN201
    bridge = WorkerBridge()
    yield bridge
    bridge.shutdown()


def record(job: JobHandle) -> list[tuple]:
    seen: list[tuple] = []
    job.progress.connect(lambda fraction, message: seen.append(("progress", fraction, message)))
    job.finished.connect(lambda value: seen.append(("finished", value)))
    job.failed.connect(lambda message: seen.append(("failed", message)))
    job.cancelled.connect(lambda: seen.append(("cancelled",)))
    return seen


def test_each_job_hears_only_its_own_outcome(bridge, qtbot):
    def counting(ctx: JobContext) -> str:
        ctx.progress(0.5, "halfway")
        return "counted"

    def failing(_ctx: JobContext) -> None:
        raise InputError("the mask is empty")

    first, second = bridge.submit(counting), bridge.submit(failing)
    assert first.job_id != second.job_id
    seen_first, seen_second = record(first), record(second)
    qtbot.waitUntil(lambda: first.done and second.done, timeout=10000)
    assert seen_first == [("progress", 0.5, "halfway"), ("finished", "counted")]
    assert seen_second == [("failed", "the mask is empty")]


def test_cancel_stops_a_running_job_and_drops_a_queued_one(bridge, qtbot):
    started, release = threading.Event(), threading.Event()

    def waiting(ctx: JobContext) -> str:
        started.set()
        while not release.wait(0.01):
            ctx.check_cancelled()
        return "not cancelled"

    running, queued = bridge.submit(waiting), bridge.submit(lambda _ctx: "never run")
    seen_running, seen_queued = record(running), record(queued)
    assert started.wait(10)
    queued.cancel()
    running.cancel()
    qtbot.waitUntil(lambda: running.done and queued.done, timeout=10000)
    assert seen_running == [("cancelled",)] and seen_queued == [("cancelled",)]
    assert not bridge.busy
    running.cancel()  # a finished job's handle does nothing


def test_a_job_with_the_same_key_replaces_the_stale_one(bridge, qtbot):
    started, release = threading.Event(), threading.Event()

    def slow(ctx: JobContext) -> str:
        started.set()
        while not release.wait(0.01):
            ctx.check_cancelled()
        return "stale"

    stale = bridge.submit(slow, key="fill")
    assert started.wait(10)
    fresh = bridge.submit(lambda _ctx: "fresh", key="fill")
    seen_stale, seen_fresh = record(stale), record(fresh)
    qtbot.waitUntil(lambda: stale.done and fresh.done, timeout=10000)
    assert seen_stale == [("cancelled",)] and seen_fresh == [("finished", "fresh")]


def test_the_app_words_a_remedy_as_its_menu_or_button():
    message = "no weights are installed for 'deepfillv2'; use a classical fill"
    assert app_message(message, Remedy(IMPORT, "deepfillv2")) == (
        f"{message}, or import a checkpoint in Fill > Manage Models"
    )
    assert manager_message("damaged", Remedy(DOWNLOAD, "srn")) == "damaged; press Download to get them"
    error = WeightsError("weights for 'srn' are missing", remedy=Remedy(DOWNLOAD, "srn"))
    assert describe_error(error) == "weights for 'srn' are missing; download them in Fill > Manage Models"
    assert "inpaintstudio" not in describe_error(error), "no command line in the app"
