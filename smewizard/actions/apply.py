"""Apply actions to the server: preview, run in order, stop at the first failure, audit.

This is the spine's minimal executor; the safe-apply issue extends it (journal, undo, read-only
mode) keeping these names and signatures.
"""

from __future__ import annotations

import getpass
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smewizard.actions.base import Action
from smewizard.host.base import Host, HostError

AUDIT_LOG = "/var/log/smewizard/audit.log"


@dataclass(frozen=True)
class PreviewItem:
    action: Action
    commands: tuple[str, ...]
    current: str | None
    target: str | None


@dataclass(frozen=True)
class ActionOutcome:
    action: Action
    ok: bool
    output: str = ""
    error: str | None = None
    previous: str | None = None


@dataclass(frozen=True)
class ApplyReport:
    run_id: str
    outcomes: tuple[ActionOutcome, ...]
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def preview(host: Host, actions: Sequence[Action]) -> list[PreviewItem]:
    items = []
    for action in actions:
        try:
            current = action.current(host)
        except HostError:
            current = None
        items.append(PreviewItem(action, tuple(action.shell()), current, action.target_value()))
    return items


def apply_actions(
    host: Host,
    actions: Sequence[Action],
    *,
    dry_run: bool = False,
    on_progress: Callable[[int, int, Action], None] | None = None,
) -> ApplyReport:
    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    outcomes: list[ActionOutcome] = []
    for index, action in enumerate(actions):
        if on_progress:
            on_progress(index, len(actions), action)
        if dry_run:
            outcomes.append(ActionOutcome(action, True, "dry run: not applied"))
            continue
        try:
            previous = action.current(host)
        except HostError:
            previous = None
        try:
            output = action.execute(host)
            outcome = ActionOutcome(action, True, output, None, previous)
        except (HostError, Exception) as exc:  # noqa: BLE001 - report every failure, stop after it
            outcome = ActionOutcome(action, False, "", str(exc), previous)
        outcomes.append(outcome)
        _audit(host, run_id, outcome)
        if not outcome.ok:
            break
    return ApplyReport(run_id, tuple(outcomes), dry_run)


def _audit(host: Host, run_id: str, outcome: ActionOutcome) -> None:
    line = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run": run_id,
        "user": _user(),
        "action": type(outcome.action).__name__,
        "summary": outcome.action.summary(),
        "commands": outcome.action.shell(),
        "previous": outcome.previous,
        "new": outcome.action.target_value(),
        "ok": outcome.ok,
        "error": outcome.error,
        "output_tail": outcome.output[-500:],
    }
    append_line(host, AUDIT_LOG, json.dumps(line, sort_keys=True))


def append_line(host: Host, path: str, line: str) -> None:
    """Append one line by rewriting atomically (audit files are small; keeps Host minimal)."""
    directory = path.rsplit("/", 1)[0]
    if not host.exists(directory):
        host.mkdir(directory, mode=0o750)
    old = host.read_bytes(path) if host.exists(path) else b""
    host.write_atomic(path, old + line.encode() + b"\n", mode=0o640)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
