"""Undo a run: the inverse actions recorded in its journal, newest first, then
`signal-event email-update` when a configuration db changed (docs/safe-apply.md).

Undo is itself a journalled, audited run (kind "undo"), so an interrupted undo can be resumed
(`smewizard apply --resume`). An undo run is never undone in turn: that could only put back its
db changes, not the keys and files it moved, so the admin re-applies the step instead (the
refusal says which). Inverses whose effect is already in place are skipped, which makes
undoing an interrupted run safe whether or not its last action got to run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smewizard.actions import dbdiff
from smewizard.actions.apply import ApplyReport, apply_actions
from smewizard.actions.base import Action, SignalEvent
from smewizard.actions.journal import Journal, RunRecord, list_runs, read_run
from smewizard.actions.plan import PlanError, action_from_json, action_to_json
from smewizard.host.base import Host, HostError
from smewizard.validate import InvalidValue


class UndoError(InvalidValue):
    """The run cannot be undone (unknown id, already undone, nothing recorded)."""


@dataclass(frozen=True)
class UndoPlan:
    run: RunRecord
    actions: tuple[Action, ...]
    not_undoable: tuple[str, ...]  # summaries of actions that recorded no way back
    db_only: tuple[str, ...] = ()  # actions without their own undo: only their db changes revert


def find_run(host: Host, run_id: str | None) -> RunRecord:
    """The run `run_id`, or with None the latest apply that is not undone yet."""
    if run_id is not None:
        if not _valid_run_id(run_id):
            raise UndoError(f"{run_id!r} is not a run id (like 20261125T012016-3f9a2c)")
        run = read_run(host, run_id)
        if run is None:
            raise UndoError(f"no run {run_id} on the server; `smewizard undo --list` shows them")
        return run
    candidates = [r for r in list_runs(host) if r.kind != "undo" and r.undone_by is None and r.begun]
    if not candidates:
        raise UndoError("there is no applied run to undo")
    return candidates[-1]


def _valid_run_id(value: str) -> bool:
    import re

    return bool(re.fullmatch(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}", value))


def plan_undo(host: Host, run: RunRecord) -> UndoPlan:
    if run.kind == "undo":
        raise UndoError(_undo_of_undo(host, run))
    if run.undone_by:
        raise UndoError(f"run {run.run_id} was already undone by {run.undone_by}")
    if run.running:
        raise UndoError(f"run {run.run_id} is still running (pid {run.owner.get('pid')})")
    actions: list[Action] = []
    missing: list[str] = []
    db_only: list[str] = []
    touches_config = False
    for index in sorted(run.begun, reverse=True):
        begin = run.begun[index]
        done = run.done.get(index)
        if done is not None and done.get("skipped"):
            continue  # resumed over an action already in place: this run did not change it
        undo = _recorded_undo(host, begin, done)
        if undo is None:
            missing.append(run.summary(index))
            continue
        if begin.get("undo") is None:
            db_only.append(run.summary(index))
        for position, entry in enumerate(undo):
            try:
                action = action_from_json(entry, where=f"undo of action {index + 1}.{position + 1}")
            except PlanError as exc:
                raise UndoError(f"the journal of run {run.run_id} is damaged: {exc}") from None
            touches_config = touches_config or action.changes_configuration()
            actions.append(action)
    if touches_config:
        actions.append(SignalEvent("email-update", step="undo"))
    return UndoPlan(run, tuple(actions), tuple(missing), tuple(db_only))


def _undo_of_undo(host: Host, run: RunRecord) -> str:
    """Why an undo run is not undone, and how to get its changes back: apply the steps again
    (the audit proposes what is missing now, files and keys included)."""
    original = read_run(host, run.undo_of) if run.undo_of and _valid_run_id(run.undo_of) else None
    steps = (original.steps if original else ()) or run.steps
    again = (" and ".join(f"`smewizard apply --step {s}`" for s in steps) if steps
             else "`smewizard apply --step STEP`")
    what = f"an undo of run {run.undo_of}" if run.undo_of else "an undo"
    finish = " To finish this interrupted undo instead: `smewizard apply --resume`." if run.interrupted else ""
    return (f"run {run.run_id} is {what}; an undo is not undone (that would put back only its db "
            f"changes, not the keys and files it moved). To re-apply, run {again} again "
            f"(in the app: that step's Apply); it proposes what is missing now.{finish}")


def _recorded_undo(host: Host, begin: dict, done: dict | None) -> list | None:
    """The undo recorded before the action, or the db difference recorded after it, or (when
    the run died during an action without its own undo) the difference from the db snapshot
    taken before it to the dbs now."""
    if begin.get("undo") is not None:
        return begin["undo"]
    if done is not None and done.get("undo") is not None:
        return done["undo"]
    before = begin.get("db_before")
    if isinstance(before, dict) and done is None:
        try:
            return [action_to_json(a) for a in dbdiff.inverse(before, dbdiff.snapshot(host), "undo")]
        except InvalidValue:
            return None
    return None


def pending_actions(host: Host, plan: UndoPlan) -> list[Action]:
    """The undo actions not already in place (the event always runs)."""
    out = []
    for action in plan.actions:
        try:
            satisfied = action.is_satisfied(host)
        except (HostError, ValueError):
            satisfied = False
        if not satisfied:
            out.append(action)
    return out


def undo_run(
    host: Host,
    plan: UndoPlan,
    *,
    dry_run: bool = False,
    on_progress: Callable | None = None,
    on_output: Callable | None = None,
) -> ApplyReport:
    actions = pending_actions(host, plan) if dry_run else list(plan.actions)
    report = apply_actions(
        host, actions, dry_run=dry_run, on_progress=on_progress, on_output=on_output,
        kind="undo", undo_of=plan.run.run_id, skip_satisfied=True,
    )
    if not dry_run and report.ok:
        Journal(host, plan.run.run_id).undone(report.run_id)
    return report
