"""Apply actions to the server safely: preview, run in order, stop at the first failure, audit,
journal for crash safety, undo data, and read-only refusal (docs/safe-apply.md).

Public API (used by the UI and the CLI): `preview`, `format_preview`, `apply_actions`,
`resume_run`, and the result types `PreviewItem`, `ActionOutcome`, `ApplyReport`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smewizard.actions import dbdiff
from smewizard.actions import journal as journal_mod
from smewizard.actions.audit import (
    AUDIT_LOG,
    OUTPUT_TAIL,
    append_line,
    current_user,
    now_text,
    scrub,
    write_audit,
)
from smewizard.actions.base import OUTPUT_SINK, Action
from smewizard.actions.journal import Journal, RunRecord, new_run_id
from smewizard.actions.plan import PlanError, action_from_json, action_to_json
from smewizard.host.base import Host, HostError
from smewizard.readonly import NEEDS_ROOT, WriteAccess, write_access
from smewizard.sme.db import read_db
from smewizard.validate import InvalidValue

__all__ = [
    "AUDIT_LOG",
    "ActionOutcome",
    "ApplyReport",
    "PreviewItem",
    "append_line",
    "apply_actions",
    "format_preview",
    "group_preview",
    "preview",
    "resume_run",
]

ProgressCallback = Callable[[int, int, Action], None]
OutputCallback = Callable[[Action, str], None]
# Test hook for the crash-safety tests: "before:N" pauses before action N starts (after N-1 is
# recorded done), "during:N" pauses after action N's "begin" is on disk, before it runs.
PAUSE_ENV = "SMEWIZARD_TEST_PAUSE"


@dataclass(frozen=True)
class PreviewItem:
    action: Action
    commands: tuple[str, ...]
    current: str | None
    target: str | None
    needs_root: bool = False
    undoable: bool = True
    step: str = ""
    domain: str | None = None


@dataclass(frozen=True)
class ActionOutcome:
    action: Action
    ok: bool
    output: str = ""
    error: str | None = None
    previous: str | None = None
    skipped: bool = False
    exit_status: int | None = None  # of the failing command, when a command failed


@dataclass(frozen=True)
class ApplyReport:
    run_id: str
    outcomes: tuple[ActionOutcome, ...]
    dry_run: bool = False
    refused: str | None = None  # why nothing was run (read-only, an interrupted run pending …)
    read_only: bool = False  # refused because the wizard may not change the server

    @property
    def ok(self) -> bool:
        return self.refused is None and all(o.ok for o in self.outcomes)


# ---------------------------------------------------------------------------------- preview
def preview(host: Host, actions: Sequence[Action], access: WriteAccess | None = None) -> list[PreviewItem]:
    """What each action would run and change, from → to, read from the server now."""
    access = access if access is not None else write_access(host)
    items = []
    for action in actions:
        try:
            current = action.current(host)
        except (HostError, ValueError):
            current = None
        try:
            undoable = action.undo_actions(host) is not None
        except (HostError, ValueError):
            undoable = False
        try:
            shown = tuple(action.shell_for(host))
        except (HostError, ValueError):
            shown = tuple(action.shell())
        items.append(
            PreviewItem(
                action, shown, current, action.target_value(),
                needs_root=not access.allowed, undoable=undoable,
                step=str(getattr(action, "step", "") or ""), domain=getattr(action, "domain", None),
            )
        )
    return items


def group_preview(items: Sequence[PreviewItem]) -> list[tuple[str, str | None, list[PreviewItem]]]:
    """Consecutive items of the same (step, domain) under one label, in execution order.

    Grouping never reorders: when a step returns to a domain (or to server-wide, e.g. its
    closing `signal-event email-update`), that label appears again where the command runs, so
    reading the preview top to bottom is the order the commands run in."""
    groups: list[tuple[str, str | None, list[PreviewItem]]] = []
    for item in items:
        if groups and groups[-1][:2] == (item.step, item.domain):
            groups[-1][2].append(item)
        else:
            groups.append((item.step, item.domain, [item]))
    return groups


def format_preview(items: Sequence[PreviewItem], *, dry_run: bool = False, undoing: bool = False) -> str:
    """The preview as text, numbered in execution order and labelled by step and domain, each
    command with its from → to. `undoing`: the steps of an undo (never undone themselves, so
    no "undo restores …" flag)."""
    if not items:
        return "Nothing to change.\n"
    lines = []
    if dry_run:
        lines.append("DRY RUN: these commands are shown, nothing is changed.")
    lines.append("In the order they run:")
    number = 0
    for step, domain, group in group_preview(items):
        lines.append(f"[{step or 'server'}] {domain or 'server-wide'}")
        for item in group:
            number += 1
            flags = []
            if item.needs_root:
                flags.append(NEEDS_ROOT)
            if not item.undoable and not undoing:
                flags.append("undo restores its db changes only")
            lines.append(f"  {number}. {item.action.summary()}" + (f"  ({', '.join(flags)})" if flags else ""))
            if item.target is not None or item.current is not None:
                now = item.current if item.current is not None else "(not set)"
                lines.append(f"    from: {now}")
                lines.append(f"    to:   {item.target if item.target is not None else '(unchanged)'}")
            lines.extend(f"    # {cmd}" for cmd in item.commands)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- apply
def apply_actions(
    host: Host,
    actions: Sequence[Action],
    *,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    on_output: OutputCallback | None = None,
    kind: str = "apply",
    undo_of: str | None = None,
    ignore_interrupted: bool = False,
    skip_satisfied: bool = False,
) -> ApplyReport:
    """Run `actions` in order; stop at the first failure. Every action is journalled before it
    runs (with what undo needs) and audited after. Refuses, changing nothing, when the wizard
    may not write or when an interrupted run must be resumed or undone first."""
    run_id = new_run_id()
    if dry_run:
        return ApplyReport(run_id, tuple(ActionOutcome(a, True, "dry run: not applied") for a in actions), True)
    refusal, read_only = _refusal(host, ignore_interrupted=ignore_interrupted or kind == "undo")
    if refusal is None:
        refusal = damaged_dbs(host, actions)
    if refusal:
        return ApplyReport(run_id, (), False, refusal, read_only)
    journal = Journal(host, run_id)
    journal.start(kind, [_journal_entry(a) for a in actions], undo_of)
    indices = range(len(actions))
    skip = set(indices) if skip_satisfied else set()
    outcomes = _run(host, journal, list(actions), indices, on_progress, on_output, resuming=skip)
    journal.end(all(o.ok for o in outcomes))
    return ApplyReport(run_id, tuple(outcomes))


def resume_run(
    host: Host,
    run: RunRecord,
    *,
    on_progress: ProgressCallback | None = None,
    on_output: OutputCallback | None = None,
) -> ApplyReport:
    """Continue an interrupted run in its own journal: actions recorded done are skipped, the
    half-done one is re-run unless already in place, the rest run as planned."""
    refusal, read_only = _refusal(host, ignore_interrupted=True)
    if refusal:
        return ApplyReport(run.run_id, (), False, refusal, read_only)
    actions = [load_journal_action(entry, i) for i, entry in enumerate(run.actions)]
    remaining = [i for i in range(len(actions)) if i not in run.completed_ok]
    journal = Journal(host, run.run_id)
    journal.resumed()
    # an undo skips whatever is already back in place; an apply only its half-done action
    skip = set(remaining) if run.kind == "undo" else set(run.begun)
    outcomes = _run(host, journal, actions, remaining, on_progress, on_output, resuming=skip)
    ok = all(o.ok for o in outcomes)
    journal.end(ok)
    if ok and run.kind == "undo" and run.undo_of:
        Journal(host, run.undo_of).undone(run.run_id)
    return ApplyReport(run.run_id, tuple(outcomes))


def load_journal_action(entry: dict, index: int) -> Action:
    try:
        return action_from_json(entry, where=f"journal action {index + 1}")
    except PlanError as exc:
        raise HostError(f"cannot continue the run: {exc}") from None


def damaged_dbs(host: Host, actions: Sequence[Action]) -> str | None:
    """Why db changes may not run: a db they touch has garbled or duplicate lines. SME's `db`
    rewrites the whole file from what it parsed, so such lines (e.g. the earlier of two records
    with one key, and all its props) would be lost by any change; the admin fixes them first."""
    names = sorted({name for a in actions if isinstance(name := getattr(a, "db", None), str)})
    for name in names:
        try:
            problems = [p for p in read_db(host, name).problems if p.line_number > 0]
        except (HostError, InvalidValue):
            continue  # unreadable: the action itself reports it
        if problems:
            shown = "; ".join(f"line {p.line_number}: {p.reason}" for p in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            return (f"the {name} db has lines SME's db program would drop when it rewrites the file "
                    f"({shown}{more}); fix them first (they are listed by `smewizard check`)")
    return None


def _refusal(host: Host, *, ignore_interrupted: bool) -> tuple[str | None, bool]:
    """(why nothing may run, whether that is read-only mode), or (None, False)."""
    access = write_access(host)
    if not access.allowed:
        return access.message, True
    try:
        runs = journal_mod.list_runs(host)
    except HostError as exc:
        return f"cannot read the run journal: {exc}", False
    busy = [r for r in runs if r.running]
    if busy:
        return (f"another smewizard (pid {busy[-1].owner.get('pid')}) is applying run "
                f"{busy[-1].run_id}; wait for it."), False
    if not ignore_interrupted and any(r.interrupted for r in runs):
        return journal_mod.interruption_notice(host), False
    return None, False


def _journal_entry(action: Action) -> dict:
    try:
        entry = action_to_json(action)
    except PlanError:
        entry = {"type": type(action).__name__, "fields": None}
    return {**entry, "summary": action.summary()}


def _run(
    host: Host,
    journal: Journal,
    actions: list[Action],
    indices: Sequence[int],
    on_progress: ProgressCallback | None,
    on_output: OutputCallback | None,
    resuming: set[int] | None = None,
) -> list[ActionOutcome]:
    outcomes: list[ActionOutcome] = []
    for index in indices:
        action = actions[index]
        _test_pause("before", index)
        if on_progress:
            on_progress(index, len(actions), action)
        outcome = _run_one(host, journal, index, action, on_output, resuming or set())
        outcomes.append(outcome)
        if not outcome.ok:
            break
    return outcomes


def _run_one(
    host: Host,
    journal: Journal,
    index: int,
    action: Action,
    on_output: OutputCallback | None,
    resuming: set[int],
) -> ActionOutcome:
    previous = _safe(lambda: action.current(host))
    undo = _safe(lambda: action.undo_actions(host))
    if index in resuming and _safe(lambda: action.is_satisfied(host)):
        journal.begin(index, previous, None)
        journal.done(index, True, skipped=True)
        return ActionOutcome(action, True, "already in place", None, previous, skipped=True)
    undo_json = [action_to_json(a) for a in undo] if undo is not None else None
    db_before = dbdiff.snapshot(host) if undo is None else None
    journal.begin(index, previous, undo_json, db_before)
    _test_pause("during", index)
    sink = (lambda line: on_output(action, line)) if on_output else None
    token = OUTPUT_SINK.set(sink)
    started = time.monotonic()
    try:
        output = action.execute(host)
        outcome = ActionOutcome(action, True, output or "", None, previous)
    except Exception as exc:  # noqa: BLE001 - report every failure, stop after it
        result = getattr(exc, "result", None)
        status = result.returncode if result is not None else 1
        outcome = ActionOutcome(action, False, "", str(exc) or type(exc).__name__, previous, exit_status=status)
    finally:
        OUTPUT_SINK.reset(token)
    journal.done(index, outcome.ok, outcome.error, undo=_db_undo(host, action, db_before))
    _audit(host, journal.run_id, outcome, time.monotonic() - started)
    return outcome


def _db_undo(host: Host, action: Action, db_before: dict | None) -> list[dict] | None:
    """For an action without its own undo: the inverse of what it changed in the dbs."""
    if db_before is None:
        return None
    try:
        inverse = dbdiff.inverse(db_before, dbdiff.snapshot(host), getattr(action, "step", ""),
                                 getattr(action, "domain", None))
        return [action_to_json(a) for a in inverse]
    except (InvalidValue, PlanError):
        return None


def _safe(func):
    try:
        return func()
    except Exception:  # noqa: BLE001 - reading state for the record must not block the change
        return None


def _audit(host: Host, run_id: str, outcome: ActionOutcome, seconds: float) -> None:
    try:
        _write_audit(host, run_id, outcome, seconds)
    except (HostError, ValueError) as exc:  # the change is made and journalled; say so, go on
        print(f"smewizard: warning: could not write the audit log: {exc}", file=sys.stderr)


def _write_audit(host: Host, run_id: str, outcome: ActionOutcome, seconds: float) -> None:
    write_audit(host, {
        "time": now_text(),
        "run": run_id,
        "user": current_user(),
        "action": type(outcome.action).__name__,
        "summary": outcome.action.summary(),
        "command": outcome.action.shell(),
        "previous": outcome.previous,
        "new": outcome.action.target_value(),
        "ok": outcome.ok,
        "exit": 0 if outcome.ok else outcome.exit_status,
        "error": outcome.error,
        "output_tail": scrub(outcome.output or "")[-OUTPUT_TAIL:],  # scrub whole keys, then cut
        "seconds": round(seconds, 3),
    })


def _test_pause(phase: str, index: int) -> None:
    wanted = os.environ.get(PAUSE_ENV, "")
    if wanted == f"{phase}:{index}":
        print(f"smewizard-test: paused {phase} action {index}", file=sys.stderr, flush=True)
        time.sleep(3600)
