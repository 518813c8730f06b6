"""Read-only mode: the wizard shows every state and finding to anyone who can read the server,
but only runs changes when it may write (root on the server, or the owner of a simulated root).

`write_access(host)` decides once per run; actions are then shown as "needs root" and not
runnable, with the exact command to re-run as root.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from smewizard.host.base import Host, HostError

NEEDS_ROOT = "needs root"


@dataclass(frozen=True)
class WriteAccess:
    allowed: bool
    reason: str = ""  # why not, in a sentence
    rerun: str = ""  # how to re-run with the rights needed

    @property
    def message(self) -> str:
        if self.allowed:
            return ""
        return f"Read-only mode: {self.reason} Changes are shown but not run. {self.rerun}"


def rerun_hint(argv: Sequence[str] | None = None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["smewizard", *args])
    return f"To apply them, re-run as root: `sudo {command}`, or log in as root (`ssh root@<server>`) and run `{command}`."


def _writable(host: Host, path: str) -> bool:
    """Whether this process may create files in `path` (a local view; other hosts decide by
    is_privileged alone)."""
    real = getattr(host, "real", None)
    if real is None:
        return True
    local = real(path)
    while not os.path.exists(local) and os.path.dirname(local) != local:
        local = os.path.dirname(local)
    return os.access(local, os.W_OK | os.X_OK)


def write_access(host: Host, argv: Sequence[str] | None = None) -> WriteAccess:
    """May this run change the server? Checks privilege, then the db and log directories."""
    from smewizard.actions.audit import LOG_DIR

    try:
        privileged = host.is_privileged()
    except HostError:
        privileged = False
    if not privileged:
        who = f"uid {os.geteuid()}" if getattr(host, "root", None) is not None or os.geteuid() else "root"
        return WriteAccess(False, f"the wizard runs as {who}, not root.", rerun_hint(argv))
    for path, what in (("/home/e-smith/db", "the configuration databases"), (LOG_DIR, "the audit log")):
        if not _writable(host, path):
            return WriteAccess(False, f"{what} ({path}) cannot be written.", rerun_hint(argv))
    return WriteAccess(True)
