"""Action types. Values are validated when the action is built, so an invalid value can never
reach a command line; `shell()` is for display and copy only, `execute()` never uses a shell."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from smewizard import validate
from smewizard.host.base import CommandFailed, Host
from smewizard.sme.db import read_db


class ActionError(Exception):
    """An action could not be carried out; the message says why and what was left."""


@dataclass(frozen=True)
class Action:
    """Base of every server change. Subclasses set `step`/`domain` and implement the methods."""

    def summary(self) -> str:
        raise NotImplementedError

    def commands(self) -> list[list[str]]:
        """The command(s) as an SME admin would type them, as argv lists."""
        raise NotImplementedError

    def shell(self) -> list[str]:
        return [shlex.join(argv) for argv in self.commands()]

    def current(self, host: Host) -> str | None:
        """What the thing this action changes is now (for the preview and for undo)."""
        return None

    def target_value(self) -> str | None:
        return None

    def execute(self, host: Host) -> str:
        """Carry the change out; return command output worth keeping. Raises on failure."""
        raise NotImplementedError


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

    def execute(self, host: Host) -> str:
        if read_db(host, self.db).get(self.key) is None:
            if self.record_type is None:
                raise ActionError(
                    f"db {self.db} has no record {self.key!r}; setprop would silently do nothing"
                )
            return run_checked(host, ["db", self.db, "set", self.key, self.record_type, self.prop, self.value])
        return run_checked(host, self.commands()[0])


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

    def execute(self, host: Host) -> str:
        return run_checked(host, self.commands()[0])


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
        return run_checked(host, self.commands()[0], timeout=600.0)
