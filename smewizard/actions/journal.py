"""The run journal: crash safety and undo data, on the server next to the audit log.

One file per run, `/var/log/smewizard/runs/<run-id>.jsonl`, appended with O_APPEND + fsync:

    {"event": "start", "run": ID, "kind": "apply"|"undo", "actions": [...], "pid": …, …}
    {"event": "begin", "index": 0, "previous": "…", "undo": [serialised actions] | null}
    {"event": "done",  "index": 0, "ok": true, "error": null}
    …
    {"event": "end", "ok": true}

"begin" is on disk before the action touches anything and "done" after it finished, so after
a kill -9 the journal says exactly which action may be half-done. A run without "end" whose
process is gone is *interrupted*: `smewizard apply --resume` continues it, `smewizard undo
--last` restores what it changed. An undo run appends {"event": "undone", "by": ID} to the run
it undid. Journal lines go through the same key-material guard as the audit log.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from smewizard.actions.audit import LOG_DIR, append_line, current_user, now_text, safe_json_line
from smewizard.host.base import Host, NotFound
from smewizard.steps.registry import STEP_INFO

RUNS_DIR = f"{LOG_DIR}/runs"


def new_run_id() -> str:
    """Time to the second, then the microsecond: ids sort in the order runs started."""
    now = time.time_ns() // 1000
    seconds, micro = divmod(now, 1_000_000)
    return time.strftime("%Y%m%dT%H%M%S", time.localtime(seconds)) + f"-{micro:06d}"


def _process_start(pid: int) -> str | None:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat), to tell pid reuse apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def this_process() -> dict[str, Any]:
    return {"pid": os.getpid(), "proc_start": _process_start(os.getpid()), "machine": socket.gethostname()}


def _alive(owner: dict[str, Any]) -> bool:
    if owner.get("machine") != socket.gethostname():
        return False  # another machine's wizard: we cannot tell, treat its run as unfinished
    pid = owner.get("pid")
    return isinstance(pid, int) and _process_start(pid) is not None and _process_start(pid) == owner.get("proc_start")


@dataclass
class RunRecord:
    """One run as its journal tells it."""

    run_id: str
    kind: str
    started: str
    user: str
    actions: list[dict[str, Any]]
    owner: dict[str, Any]
    undo_of: str | None = None
    begun: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: dict[int, dict[str, Any]] = field(default_factory=dict)
    ended: dict[str, Any] | None = None
    undone_by: str | None = None

    @property
    def finished(self) -> bool:
        return self.ended is not None

    @property
    def running(self) -> bool:
        return not self.finished and _alive(self.owner)

    @property
    def interrupted(self) -> bool:
        return not self.finished and self.undone_by is None and not _alive(self.owner)

    @property
    def half_done(self) -> list[int]:
        """Actions that began but whose end was never recorded."""
        return sorted(i for i in self.begun if i not in self.done)

    @property
    def completed_ok(self) -> list[int]:
        return sorted(i for i, d in self.done.items() if d.get("ok"))

    def summary(self, index: int) -> str:
        entry = self.actions[index] if 0 <= index < len(self.actions) else {}
        return str(entry.get("summary") or entry.get("type") or f"action {index + 1}")

    @property
    def steps(self) -> tuple[str, ...]:
        """The wizard steps (spf, dkim, …) whose actions the run holds, in the wizard's order
        (an undo runs them backwards but names them as its run did). An undo's own bookkeeping
        (its closing email-update, tagged "undo") is not a step."""
        order = {item.key: position for position, item in enumerate(STEP_INFO)}
        found = set()
        for entry in self.actions:
            fields = entry.get("fields") if isinstance(entry, dict) else None
            step = fields.get("step") if isinstance(fields, dict) else None
            if isinstance(step, str) and step and step != "undo":
                found.add(step)
        return tuple(sorted(found, key=lambda key: (order.get(key, len(order)), key)))

    def describe(self) -> str:
        state = (
            f"undone by {self.undone_by}" if self.undone_by
            else "running" if self.running
            else "INTERRUPTED" if self.interrupted
            else "ok" if self.ended and self.ended.get("ok")
            else "stopped at a failure"
        )
        steps = ", ".join(self.steps) or "no step"
        what = f"undo of {self.undo_of} ({steps})" if self.undo_of else f"{steps}: {len(self.actions)} action(s)"
        return f"{self.run_id}  {self.kind:<6} {what:<32} by {self.user}  [{state}]"


class Journal:
    """Writer for one run's journal."""

    def __init__(self, host: Host, run_id: str):
        self.host = host
        self.run_id = run_id
        self.path = f"{RUNS_DIR}/{run_id}.jsonl"

    def _write(self, entry: dict[str, Any]) -> None:
        append_line(self.host, self.path, safe_json_line({"time": now_text(), **entry}), mode=0o600)

    def start(self, kind: str, actions: list[dict[str, Any]], undo_of: str | None = None) -> None:
        self._write({
            "event": "start", "run": self.run_id, "kind": kind, "user": current_user(),
            "actions": actions, "undo_of": undo_of, **this_process(),
        })

    def resumed(self) -> None:
        self._write({"event": "resume", "user": current_user(), **this_process()})

    def begin(
        self,
        index: int,
        previous: str | None,
        undo: list[dict[str, Any]] | None,
        db_before: dict[str, Any] | None = None,
    ) -> None:
        """Before action `index` runs: its undo actions, or (for an action that cannot tell)
        the dbs as they are, so undo can compute the way back even after a crash mid-action."""
        entry = {"event": "begin", "index": index, "previous": previous, "undo": undo}
        if db_before is not None:
            entry["db_before"] = db_before
        self._write(entry)

    def done(
        self,
        index: int,
        ok: bool,
        error: str | None = None,
        skipped: bool = False,
        undo: list[dict[str, Any]] | None = None,
    ) -> None:
        entry = {"event": "done", "index": index, "ok": ok, "error": error, "skipped": skipped}
        if undo is not None:
            entry["undo"] = undo  # computed from the db difference after the action
        self._write(entry)

    def end(self, ok: bool, note: str = "") -> None:
        self._write({"event": "end", "ok": ok, "note": note})

    def undone(self, by: str) -> None:
        self._write({"event": "undone", "by": by})


def read_run(host: Host, run_id: str) -> RunRecord | None:
    try:
        text = host.read_text(f"{RUNS_DIR}/{run_id}.jsonl")
    except NotFound:
        return None
    record: RunRecord | None = None
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash mid-write: the entries before it still count
        if not isinstance(entry, dict):
            continue
        event = entry.get("event")
        if event == "start":
            record = RunRecord(
                run_id=str(entry.get("run", run_id)), kind=str(entry.get("kind", "apply")),
                started=str(entry.get("time", "")), user=str(entry.get("user", "")),
                actions=list(entry.get("actions") or []),
                owner={k: entry.get(k) for k in ("pid", "proc_start", "machine")},
                undo_of=entry.get("undo_of"),
            )
        elif record is None:
            continue
        elif event == "resume":
            record.owner = {k: entry.get(k) for k in ("pid", "proc_start", "machine")}
            record.ended = None
        elif event == "begin" and isinstance(entry.get("index"), int):
            record.begun[entry["index"]] = entry
        elif event == "done" and isinstance(entry.get("index"), int):
            record.done[entry["index"]] = entry
        elif event == "end":
            record.ended = entry
        elif event == "undone":
            record.undone_by = str(entry.get("by"))
    return record


def list_runs(host: Host) -> list[RunRecord]:
    """Every run on the server, oldest first (run ids start with their time)."""
    try:
        names = host.list_dir(RUNS_DIR)
    except NotFound:
        return []
    runs = []
    for name in sorted(names):
        if name.endswith(".jsonl") and not name.startswith("."):
            run = read_run(host, name[: -len(".jsonl")])
            if run is not None:
                runs.append(run)
    return runs


def interrupted_runs(host: Host) -> list[RunRecord]:
    return [r for r in list_runs(host) if r.interrupted]


def interruption_notice(host: Host) -> str | None:
    """What to tell the admin at start when a run was interrupted, or None."""
    try:
        runs = interrupted_runs(host)
    except Exception:  # noqa: BLE001 - a notice must never stop the wizard from starting
        return None
    if not runs:
        return None
    run = runs[-1]
    lines = [f"A previous run ({run.run_id}, started {run.started} by {run.user}) was interrupted."]
    for i in run.completed_ok:
        lines.append(f"  done:        {run.summary(i)}")
    for i in run.half_done:
        lines.append(f"  interrupted: {run.summary(i)} (may be half done)")
    not_started = [i for i in range(len(run.actions)) if i not in run.begun]
    for i in not_started:
        lines.append(f"  not run:     {run.summary(i)}")
    lines.append("Continue it with `smewizard apply --resume`, or put everything back with "
                 "`smewizard undo --last`.")
    return "\n".join(lines)
