"""`smewizard undo` on a simulated server: the run list names each run's steps, and an undo run
is refused (exit 2, nothing changed) with the way to re-apply instead."""

from __future__ import annotations

from smewizard.actions.apply import apply_actions
from smewizard.actions.base import SetProp, SignalEvent
from smewizard.actions.journal import list_runs
from smewizard.cli import main
from smewizard.sme.db import read_db

BOUNCE = [
    SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step="bounce"),
    SignalEvent("email-update", step="bounce"),
]
DKIM = [
    SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim"),
    SignalEvent("email-update", step="dkim"),
]


def test_undo_list_names_the_steps_of_each_run(sim_root, capsys):
    sim = sim_root("demo")
    host = sim.host()
    assert apply_actions(host, DKIM).ok and apply_actions(host, BOUNCE).ok
    assert main(["undo", "--last", "--yes", "--root", str(sim.root)]) == 0
    capsys.readouterr()
    dkim, bounce, undo = list_runs(host)

    assert main(["undo", "--list", "--root", str(sim.root)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [dkim.run_id, bounce.run_id, undo.run_id]
    assert "dkim: 2 action(s)" in listed[0]
    assert "bounce: 2 action(s)" in listed[1]
    assert f"undo of {bounce.run_id} (bounce)" in listed[2]


def test_undo_of_an_undo_run_is_refused_and_changes_nothing(sim_root, capsys):
    sim = sim_root("demo")
    host = sim.host()
    assert apply_actions(host, BOUNCE).ok
    assert main(["undo", "--last", "--yes", "--root", str(sim.root)]) == 0
    capsys.readouterr()
    applied, undo = list_runs(host)
    assert read_db(host, "configuration").prop("qmail", "DoubleBounceTo") is None

    assert main(["undo", undo.run_id, "--yes", "--root", str(sim.root)]) == 2
    out, err = capsys.readouterr()
    assert f"run {undo.run_id} is an undo of run {applied.run_id}" in err
    assert "To re-apply, run `smewizard apply --step bounce` again" in err
    assert "Traceback" not in out + err
    assert read_db(host, "configuration").prop("qmail", "DoubleBounceTo") is None
    assert len(list_runs(host)) == 2  # no new run was started


async def test_an_undo_preview_never_flags_its_own_steps_as_partly_undoable(sim_dns, capsys):
    # the inverse of a file change (restore the old selector) was labelled "undo restores its
    # db changes only" (QA3 M3): the steps of an undo are never undone themselves
    from smewizard.steps.base import Context
    from smewizard.steps.registry import info, load_step
    from smewizard.steps.server import probe_server

    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns)
    step = load_step(info("dkim"))
    fix = step.assess(await step.probe(ctx, await probe_server(ctx)))
    assert apply_actions(ctx.host, fix.actions).ok
    capsys.readouterr()
    assert main(["undo", "--last", "--dry-run", "--root", str(sim.root)]) == 0
    out = capsys.readouterr().out
    assert "Restore the previous content of" in out
    assert "undo restores its db changes only" not in out
