"""The one way to touch the server: run commands and read, write and inspect files."""

from smewizard.host.base import (
    CommandFailed,
    CommandResult,
    FileStat,
    Host,
    HostError,
    NotFound,
    PermissionDenied,
)
from smewizard.host.local import LocalHost

__all__ = [
    "CommandFailed",
    "CommandResult",
    "FileStat",
    "Host",
    "HostError",
    "LocalHost",
    "NotFound",
    "PermissionDenied",
]
