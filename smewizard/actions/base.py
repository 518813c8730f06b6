"""Action types. Values are validated when the action is built, so an invalid value can never
reach a command line; `shell()` is for display and copy only, `execute()` never uses a shell."""

from __future__ import annotations

import contextvars
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from smewizard import validate
from smewizard.host.base import CommandFailed, Host
from smewizard.sme.db import read_db


class ActionError(Exception):
    """An action could not be carried out; the message says why and what was left."""


@dataclass(frozen=True)
class Action:
    """Base of every server change. Subclasses set `step`/`domain` and implement the methods."""

    changes_server: ClassVar[bool] = True  # False: a check that closes a run (nothing written)

    def summary(self) -> str:
        raise NotImplementedError

    def commands(self) -> list[list[str]]:
        """The command(s) as an SME admin would type them, as argv lists."""
        raise NotImplementedError

    def shell(self) -> list[str]:
        return [shlex.join(argv) for argv in self.commands()]

    def commands_for(self, host: Host) -> list[list[str]]:
        """The commands as they will run on this server now (e.g. `db set` instead of
        `setprop` when the record does not exist yet); the preview shows these."""
        return self.commands()

    def shell_for(self, host: Host) -> list[str]:
        return [shlex.join(argv) for argv in self.commands_for(host)]

    def current(self, host: Host) -> str | None:
        """What the thing this action changes is now (for the preview and for undo)."""
        return None

    def target_value(self) -> str | None:
        return None

    def execute(self, host: Host) -> str:
        """Carry the change out; return command output worth keeping. Raises on failure."""
        raise NotImplementedError

    # ---- safe apply (docs/safe-apply.md) -------------------------------------------------
    def undo_actions(self, host: Host) -> list[Action] | None:
        """Called BEFORE execute(): the actions that put things back as they are now, in the
        order to run them. [] means nothing to restore (e.g. an event); None means this action
        cannot be undone (the preview says so)."""
        return None

    def is_satisfied(self, host: Host) -> bool:
        """True when the change is already in place, so resuming or undoing can skip it."""
        return False

    def changes_configuration(self) -> bool:
        """True when an e-smith db changes, so undo must regenerate with signal-event."""
        return False


# Where long commands stream their output lines while the executor runs them (set by
# smewizard.actions.apply for the duration of one action).
OUTPUT_SINK: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "smewizard_output_sink", default=None
)


def run_streamed(host: Host, argv: list[str], timeout: float = 600.0) -> str:
    """run_checked for long commands: output lines go to OUTPUT_SINK as they arrive."""
    sink = OUTPUT_SINK.get()
    stream = getattr(host, "run_stream", None)
    if stream is None:
        return run_checked(host, argv, timeout)
    result = stream(argv, sink, timeout=timeout)
    if not result.ok:
        reason = "timed out" if result.timed_out else f"exited {result.returncode}"
        tail = result.stdout.strip()[-500:]
        raise CommandFailed(f"{shlex.join(argv)} {reason}" + (f": {tail}" if tail else ""), result)
    return result.stdout.strip()[-2000:]


def run_checked(host: Host, argv: list[str], timeout: float = 300.0) -> str:
    result = host.run(argv, timeout=timeout)
    if not result.ok:
        reason = "timed out" if result.timed_out else f"exited {result.returncode}"
        tail = (result.stderr or result.stdout).strip()[-500:]
        raise CommandFailed(f"{shlex.join(argv)} {reason}" + (f": {tail}" if tail else ""), result)
    return (result.stdout + result.stderr).strip()[-2000:]


@dataclass(frozen=True)
class SetProp(Action):
    """`db DB setprop KEY PROP VALUE`; creates the record with `set` when `record_type` is
    given and the key does not exist (SME's setprop silently ignores a missing key)."""

    db: str
    key: str
    prop: str
    value: str
    step: str = ""
    domain: str | None = None
    record_type: str | None = None
    why: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        validate.db_name(self.db)
        validate.db_key(self.key)
        validate.db_prop(self.prop)
        validate.db_value(self.value)
        if self.record_type is not None:
            validate.db_value(self.record_type)

    def summary(self) -> str:
        return f"Set {self.db} {self.key} {self.prop} to {self.value!r}"

    def commands(self) -> list[list[str]]:
        return [["db", self.db, "setprop", self.key, self.prop, self.value]]

    def current(self, host: Host) -> str | None:
        return read_db(host, self.db).prop(self.key, self.prop)

    def target_value(self) -> str | None:
        return self.value

    def commands_for(self, host: Host) -> list[list[str]]:
        if self.record_type is not None and read_db(host, self.db).get(self.key) is None:
            return [["db", self.db, "set", self.key, self.record_type, self.prop, self.value]]
        return self.commands()

    def execute(self, host: Host) -> str:
        if read_db(host, self.db).get(self.key) is None:
            if self.record_type is None:
                raise ActionError(
                    f"db {self.db} has no record {self.key!r}; setprop would silently do nothing"
                )
            return run_checked(host, ["db", self.db, "set", self.key, self.record_type, self.prop, self.value])
        return run_checked(host, self.commands()[0])

    def undo_actions(self, host: Host) -> list[Action] | None:
        record = read_db(host, self.db).get(self.key)
        if record is None:
            return [DeleteRecord(self.db, self.key, self.step, self.domain)]
        previous = record.get(self.prop)
        if previous is None:
            return [DelProp(self.db, self.key, self.prop, self.step, self.domain)]
        return [SetProp(self.db, self.key, self.prop, previous, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return self.current(host) == self.value

    def changes_configuration(self) -> bool:
        return True


@dataclass(frozen=True)
class DelProp(Action):
    db: str
    key: str
    prop: str
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.db_name(self.db)
        validate.db_key(self.key)
        validate.db_prop(self.prop)

    def summary(self) -> str:
        return f"Remove {self.prop} from {self.db} {self.key}"

    def commands(self) -> list[list[str]]:
        return [["db", self.db, "delprop", self.key, self.prop]]

    def current(self, host: Host) -> str | None:
        return read_db(host, self.db).prop(self.key, self.prop)

    def target_value(self) -> str | None:
        return "(removed)"

    def execute(self, host: Host) -> str:
        return run_checked(host, self.commands()[0])

    def undo_actions(self, host: Host) -> list[Action] | None:
        previous = self.current(host)
        if previous is None:
            return []
        return [SetProp(self.db, self.key, self.prop, previous, self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return self.current(host) is None

    def changes_configuration(self) -> bool:
        return True


@dataclass(frozen=True)
class DeleteRecord(Action):
    """`db DB delete KEY`: only ever proposed by undo, for a record the wizard created."""

    db: str
    key: str
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.db_name(self.db)
        validate.db_key(self.key)

    def summary(self) -> str:
        return f"Delete record {self.key} from db {self.db}"

    def commands(self) -> list[list[str]]:
        return [["db", self.db, "delete", self.key]]

    def current(self, host: Host) -> str | None:
        record = read_db(host, self.db).get(self.key)
        if record is None:
            return None
        return "|".join([record.type, *(f"{k}|{v}" for k, v in sorted(record.props.items()))])

    def target_value(self) -> str | None:
        return "(no record)"

    def execute(self, host: Host) -> str:
        return run_checked(host, self.commands()[0])

    def undo_actions(self, host: Host) -> list[Action] | None:
        record = read_db(host, self.db).get(self.key)
        if record is None:
            return []
        return [RestoreRecord(self.db, self.key, record.type, tuple(sorted(record.props.items())), self.step, self.domain)]

    def is_satisfied(self, host: Host) -> bool:
        return read_db(host, self.db).get(self.key) is None

    def changes_configuration(self) -> bool:
        return True


@dataclass(frozen=True)
class RestoreRecord(Action):
    """`db DB set KEY TYPE [PROP VALUE]…`: puts back a whole record (undo of DeleteRecord)."""

    db: str
    key: str
    record_type: str
    props: tuple[tuple[str, str], ...] = ()
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.db_name(self.db)
        validate.db_key(self.key)
        validate.db_value(self.record_type)
        for prop, value in self.props:
            validate.db_prop(prop)
            validate.db_value(value)

    def summary(self) -> str:
        return f"Recreate record {self.key} in db {self.db}"

    def commands(self) -> list[list[str]]:
        pairs = [x for prop, value in self.props for x in (prop, value)]
        return [["db", self.db, "set", self.key, self.record_type, *pairs]]

    def current(self, host: Host) -> str | None:
        return DeleteRecord(self.db, self.key).current(host)

    def target_value(self) -> str | None:
        return "|".join([self.record_type, *(f"{k}|{v}" for k, v in self.props)])

    def execute(self, host: Host) -> str:
        return run_checked(host, self.commands()[0])

    def undo_actions(self, host: Host) -> list[Action] | None:
        delete = DeleteRecord(self.db, self.key, self.step, self.domain)
        # `db set` replaces a record wholesale: put back the one there now, or remove ours.
        return delete.undo_actions(host) or [delete]

    def is_satisfied(self, host: Host) -> bool:
        return self.current(host) == self.target_value()

    def changes_configuration(self) -> bool:
        return True


@dataclass(frozen=True)
class SignalEvent(Action):
    """`signal-event EVENT [ARG]`: regenerate templates and restart services."""

    event: str = "email-update"
    args: tuple[str, ...] = ()
    step: str = ""
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.event_name(self.event)
        for arg in self.args:
            validate.db_key(arg)

    def summary(self) -> str:
        return f"Run signal-event {self.event} to regenerate the configuration"

    def commands(self) -> list[list[str]]:
        return [["signal-event", self.event, *self.args]]

    def execute(self, host: Host) -> str:
        return run_streamed(host, self.commands()[0], timeout=600.0)

    def undo_actions(self, host: Host) -> list[Action] | None:
        return []  # nothing of its own to restore: undo re-runs email-update after the db
