"""The simulated /var/log/messages: where SME's db library and event handlers report."""

from __future__ import annotations

import os
import time
from pathlib import Path

MESSAGES = "var/log/messages"
HOSTNAME_FILE = "etc/hostname"


def log(root: Path, program: str, message: str, *, now: float | None = None) -> None:
    """Append one syslog-style line (`Mon dd hh:mm:ss host prog[pid]: message`)."""
    stamp = time.strftime("%b %e %H:%M:%S", time.localtime(now if now is not None else time.time()))
    host = _hostname(root)
    path = root / MESSAGES
    path.parent.mkdir(parents=True, exist_ok=True)
    line = f"{stamp} {host} {program}[{os.getpid()}]: {message}\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)


def _hostname(root: Path) -> str:
    try:
        return (root / HOSTNAME_FILE).read_text(encoding="utf-8").split(".")[
            0
        ].strip() or "localhost"
    except OSError:
        return "localhost"
