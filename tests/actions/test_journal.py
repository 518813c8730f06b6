"""The run journal as the admin sees it in `smewizard undo --list` and the Undo screen: each
run says which wizard steps it changed."""

from __future__ import annotations

from smewizard.actions.apply import apply_actions
from smewizard.actions.base import SetProp, SignalEvent
from smewizard.actions.journal import list_runs
from smewizard.actions.undo import plan_undo, undo_run

DKIM_AND_HELO = [
    SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim"),
    SetProp("configuration", "qpsmtpd", "HeloHost", "mail.example.com", step="helo", domain="example.com"),
    SignalEvent("email-update", step="dkim"),
]
BOUNCE = [
    SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step="bounce"),
    SignalEvent("email-update", step="bounce"),
]


def test_each_run_names_the_steps_it_changed(sim_root):
    host = sim_root("demo").host()
    assert apply_actions(host, DKIM_AND_HELO).ok
    assert apply_actions(host, BOUNCE).ok
    first, second = list_runs(host)
    assert undo_run(host, plan_undo(host, second)).ok
    first, second, undo = list_runs(host)

    assert first.steps == ("dkim", "helo")
    assert "dkim, helo: 3 action(s)" in first.describe()
    assert "bounce: 2 action(s)" in second.describe()
    # the undo's closing email-update is its own bookkeeping, not a step
    assert undo.steps == ("bounce",)
    assert f"undo of {second.run_id} (bounce)" in undo.describe()
