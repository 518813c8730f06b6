"""Host: the interface every probe and action uses to reach the SME server.

Paths are always SME absolute paths ("/home/e-smith/db/configuration"); an implementation maps
them (a root prefix for the simulated server, SSH for a remote one). Commands are argv lists,
never shell strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class HostError(Exception):
    """Something on the server could not be done; the message says what and where."""


class PermissionDenied(HostError):
    """The wizard's user may not read or change this (run as root for changes)."""


class NotFound(HostError):
    """The path or program does not exist on the server."""


class CommandFailed(HostError):
    """A command ran and exited non-zero, or timed out."""

    def __init__(self, message: str, result: CommandResult | None = None):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass(frozen=True)
class FileStat:
    """lstat() of a server path, with owner and group resolved through the server's own
    /etc/passwd and /etc/group (so the simulated root has its own users)."""

    path: str
    mode: int  # permission bits only (0o400)
    uid: int
    gid: int
    owner: str  # name, or the number as text when the server has no such user
    group: str
    size: int
    mtime: float
    is_dir: bool
    is_file: bool
    is_symlink: bool
    link_target: str | None  # SME path the link points at (root prefix removed)


class Host(Protocol):
    """What a probe or an action may do to the server."""

    @property
    def description(self) -> str: ...

    def run(
        self, argv: Sequence[str], *, timeout: float = 120.0, input_text: str | None = None
    ) -> CommandResult: ...

    # Optional (smewizard.actions falls back to run() / read+write_atomic without them):
    # run_stream(argv, on_line, *, timeout) -> CommandResult: output lines as they come;
    # append_bytes(path, data, *, mode) -> None: O_APPEND + fsync (audit log, journal).

    def read_bytes(self, path: str, *, limit: int | None = None) -> bytes: ...

    def read_text(self, path: str, *, limit: int | None = None) -> str: ...

    def write_atomic(
        self,
        path: str,
        data: bytes,
        *,
        mode: int,
        owner: str | None = None,
        group: str | None = None,
    ) -> None: ...

    def stat(self, path: str) -> FileStat | None: ...

    def resolve(self, path: str) -> str | None:
        """The SME path a (possibly linked) path finally points at, None if dangling."""
        ...

    def list_dir(self, path: str) -> list[str]: ...

    def exists(self, path: str) -> bool: ...

    def mkdir(
        self, path: str, *, mode: int, owner: str | None = None, group: str | None = None
    ) -> None: ...

    def chown(self, path: str, owner: str, group: str | None = None) -> None: ...

    def chmod(self, path: str, mode: int) -> None: ...

    def rename(self, src: str, dst: str) -> None: ...

    def copy_tree(self, src: str, dst: str) -> None:
        """Copy a directory keeping modes and owners (like `cp -a`); dst must not exist."""
        ...

    def symlink(self, target: str, path: str) -> None: ...

    def remove(self, path: str) -> None: ...

    def tcp_endpoint(self, host: str, port: int) -> tuple[str, int]:
        """A local address reaching `host:port` as seen from the server (SMTP tests)."""
        ...

    def is_privileged(self) -> bool:
        """True when the wizard may change the server (root, or owner of a simulated root)."""
        ...
