"""The autosave rule: when a recovery snapshot is due."""

import pytest

from inpaintstudio.document.autosave import AutosavePolicy


def test_autosave_policy():
    policy = AutosavePolicy()
    assert not policy.due(0.0) and policy.seconds_until_due(0.0) is None
    policy.changed(10.0)
    policy.changed(25.0)  # later changes do not push the deadline back
    assert not policy.due(39.9) and policy.seconds_until_due(20.0) == pytest.approx(20.0)
    assert policy.due(40.0) and policy.pending
    policy.saved()
    assert not policy.due(1000.0) and not policy.pending
    policy.changed(100.0)
    policy.filled(101.0)
    assert policy.due(101.0) and policy.seconds_until_due(101.0) == 0.0
    policy.saved()
    policy.changed(200.0, fill=True)
    assert policy.due(200.0)
    short = AutosavePolicy(interval=5)
    short.changed(0.0)
    assert short.due(5.0)
