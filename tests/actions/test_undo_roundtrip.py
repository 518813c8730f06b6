"""Apply every change the audit proposes on a simulated server, undo it all, and the server's
db files are back as they were (the `# updated:` header line aside: SME's db library rewrites
it on every change, so it records when, not what)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smewizard.actions.apply import apply_actions
from smewizard.actions.audit import read_audit
from smewizard.actions.journal import list_runs
from smewizard.actions.undo import find_run, plan_undo, undo_run
from smewizard.engine import run_audit
from smewizard.steps.base import Context

DBS = ("configuration", "accounts", "domains", "hosts", "networks")


def db_texts(root: Path) -> dict[str, list[str]]:
    out = {}
    for name in DBS:
        path = root / "home/e-smith/db" / name
        if path.exists():
            out[name] = [ln for ln in path.read_text().splitlines() if not ln.startswith("# updated:")]
    return out


def tree(root: Path, top: str) -> dict[str, tuple[int, int, bytes | None]]:
    """Every path under `top` (mode, uid, content) except the wizard's own archives."""
    out = {}
    base = root / top.lstrip("/")
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if ".smewizard-" in rel or "OLD-backup" in rel:
                continue
            st = path.lstat()
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            out[rel] = (st.st_mode, st.st_uid, content)
    return out


async def proposed_actions(sim, dns) -> list:
    result = await run_audit(Context(host=sim.host(), dns=dns))
    return [a for assessment in result.assessments.values() for a in assessment.actions]


@pytest.mark.parametrize("scenario", ["demo", "fresh"])
async def test_apply_everything_then_undo_restores_the_dbs(sim_dns, scenario):
    sim, dns = sim_dns(scenario)
    host = sim.host()
    before_dbs = db_texts(sim.root)
    before_keys = tree(sim.root, "/home/e-smith/dkim_keys")
    actions = await proposed_actions(sim, dns)
    assert actions, "the scenario proposes changes"

    report = apply_actions(host, actions)
    assert report.ok, [(o.action.summary(), o.error) for o in report.outcomes if not o.ok]
    assert db_texts(sim.root) != before_dbs  # something really changed

    plan = plan_undo(host, find_run(host, None))
    assert plan.not_undoable == ()  # every action left undo data (its own, or a db difference)
    undone = undo_run(host, plan)
    assert undone.ok, [(o.action.summary(), o.error) for o in undone.outcomes if not o.ok]

    assert db_texts(sim.root) == before_dbs
    assert tree(sim.root, "/home/e-smith/dkim_keys") == before_keys
    runs = list_runs(host)
    assert runs[0].undone_by == runs[1].run_id and runs[1].kind == "undo"
    # the undo ends by regenerating the configuration from the restored db
    assert undone.outcomes[-1].action.commands() == [["signal-event", "email-update"]]
    assert len(read_audit(host)) == len(report.outcomes) + len(undone.outcomes)


async def test_generated_keys_are_archived_not_deleted_by_undo(sim_dns):
    sim, dns = sim_dns("fresh")
    host = sim.host()
    keys_dir = sim.root / "home/e-smith/dkim_keys"
    before = {p for p in keys_dir.rglob("*") if p.is_file()}
    apply_actions(host, await proposed_actions(sim, dns))
    generated = {p.read_bytes() for p in keys_dir.rglob("*") if p.is_file() and p not in before}
    assert any(b"PRIVATE KEY" in g for g in generated), "fresh proposes a new DKIM key"
    undo_run(host, plan_undo(host, find_run(host, None)))
    still_there = {p.read_bytes() for p in keys_dir.rglob("*") if p.is_file()}
    assert generated <= still_there  # moved aside under an archive name, not deleted


async def test_undo_twice_is_refused(sim_dns):
    from smewizard.actions.undo import UndoError

    sim, dns = sim_dns("demo")
    host = sim.host()
    apply_actions(host, await proposed_actions(sim, dns))
    run = find_run(host, None)
    undo_run(host, plan_undo(host, run))
    with pytest.raises(UndoError, match="already undone"):
        plan_undo(host, find_run(host, run.run_id))


def test_an_undo_run_is_not_undone_the_admin_is_told_to_re_apply(sim_root):
    """Undoing an undo could only put back db changes (DKIMSigning enabled while the keys stay
    moved aside): it is refused, naming the step to apply again, and nothing changes."""
    from smewizard.actions.base import SetProp, SignalEvent
    from smewizard.actions.undo import UndoError

    sim = sim_root("demo")
    host = sim.host()
    applied = apply_actions(host, [SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step="bounce"),
                                   SignalEvent("email-update", step="bounce")])
    undone = undo_run(host, plan_undo(host, find_run(host, applied.run_id)))
    before = db_texts(sim.root)
    with pytest.raises(UndoError) as refused:
        plan_undo(host, find_run(host, undone.run_id))
    message = str(refused.value)
    assert f"run {undone.run_id} is an undo of run {applied.run_id}" in message
    assert "`smewizard apply --step bounce`" in message
    assert db_texts(sim.root) == before and len(list_runs(host)) == 2
