"""The single-worker job runner: order, progress, cancellation, stale jobs, failures."""

from __future__ import annotations

import threading
import time

import pytest

from inpaintstudio.engine.runner import CANCELLED, DONE, DROPPED, FAILED, JobRunner


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown()


def collect():
    outcomes = []
    done = threading.Event()

    def on_done(outcome):
        outcomes.append(outcome)
        done.set()

    return outcomes, on_done


def test_jobs_run_one_at_a_time_in_order(runner):
    active = []
    peak = []
    order = []

    def job(n):
        def work(ctx):
            active.append(n)
            peak.append(len(active))
            time.sleep(0.02)
            order.append(n)
            active.remove(n)
            return n * 10

        return work

    outcomes, on_done = collect()
    ids = [runner.submit(job(n), on_done=on_done) for n in range(5)]
    assert runner.wait_idle(10)
    assert order == list(range(5)) and max(peak) == 1
    assert [o.job_id for o in outcomes] == ids
    assert [o.value for o in outcomes] == [0, 10, 20, 30, 40]
    assert all(o.status == DONE for o in outcomes)


def test_progress_reaches_the_callback(runner):
    seen = []

    def work(ctx):
        for i in range(3):
            ctx.progress(i / 2, f"step {i}")

    runner.submit(work, on_progress=lambda job_id, f, m: seen.append((f, m)))
    runner.wait_idle(5)
    assert seen == [(0.0, "step 0"), (0.5, "step 1"), (1.0, "step 2")]


def test_cancel_a_running_job_cooperatively(runner):
    started = threading.Event()

    def work(ctx):
        started.set()
        while True:
            ctx.check_cancelled()
            time.sleep(0.005)

    outcomes, on_done = collect()
    job = runner.submit(work, on_done=on_done)
    assert started.wait(5)
    runner.cancel(job)
    assert runner.wait_idle(5)
    assert outcomes[0].status == CANCELLED


def test_a_new_job_with_the_same_key_replaces_stale_ones(runner):
    gate = threading.Event()
    started = threading.Event()

    def slow(ctx):
        started.set()
        while not gate.is_set():
            ctx.check_cancelled()
            time.sleep(0.005)
        return "slow"

    outcomes, on_done = collect()
    first = runner.submit(slow, key="fill", on_done=on_done)
    assert started.wait(5)
    second = runner.submit(lambda ctx: "second", key="fill", on_done=on_done)
    third = runner.submit(lambda ctx: "third", key="fill", on_done=on_done)
    other = runner.submit(lambda ctx: "other", key="compare", on_done=on_done)
    assert runner.wait_idle(5)
    status = {o.job_id: o.status for o in outcomes}
    assert status[first] == CANCELLED, "the running stale job was asked to stop"
    assert status[second] == DROPPED, "the queued stale job never ran"
    assert status[third] == DONE and status[other] == DONE


def test_a_failing_job_is_reported_and_the_worker_survives(runner):
    outcomes, on_done = collect()

    def broken(ctx):
        raise ValueError("boom")

    runner.submit(broken, on_done=on_done)
    runner.submit(lambda ctx: 42, on_done=on_done)
    assert runner.wait_idle(5)
    assert outcomes[0].status == FAILED and isinstance(outcomes[0].error, ValueError)
    assert outcomes[1].status == DONE and outcomes[1].value == 42


def test_a_broken_callback_does_not_stop_the_worker(runner):
    outcomes, on_done = collect()

    def bad_callback(outcome):
        raise RuntimeError("callback bug")

    runner.submit(lambda ctx: 1, on_done=bad_callback)
    runner.submit(lambda ctx: 2, on_done=on_done)
    assert runner.wait_idle(5)
    assert outcomes[0].value == 2


def test_shutdown_refuses_new_jobs():
    r = JobRunner()
    r.submit(lambda ctx: None)
    r.shutdown()
    with pytest.raises(RuntimeError):
        r.submit(lambda ctx: None)
