"""e-smith db files as SME's esmith::config writes them.

Verified (e-smith-lib, esmith::db / esmith::config): one record per line `key=type|p|v|…`,
props in sorted order; the whole file is rewritten on every change under a "DO NOT MODIFY"
header with an `updated:` time; keys in sorted (byte) order. Reading goes through the
foundation's `smewizard.sme.db.parse_db` so the simulator and the wizard agree on the format.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from smewizard.host.local import write_file_atomically
from smewizard.sme.db import DbRecord, format_record, parse_db

DB_DIR = "home/e-smith/db"
_HEADER = (
    "# DO NOT MODIFY THIS FILE.\n"
    "# This file is automatically maintained by the Mitel Networks SME Server\n"
    "# configuration software.  Manually editing this file may put your\n"
    "# system in an unknown state.\n"
    "#\n"
    "# updated: {when}\n"
)


@dataclass(frozen=True)
class SimDbFile:
    """Where one db lives inside a simulated root."""

    root: Path
    name: str

    @property
    def path(self) -> Path:
        return self.root / DB_DIR / self.name

    def load(self) -> dict[str, DbRecord]:
        try:
            text = self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return {}
        return dict(parse_db(self.name, text).records)

    def save(self, records: dict[str, DbRecord], *, now: float | None = None) -> None:
        write_db_file(self.path, records, now=now)


def render_db(records: dict[str, DbRecord], *, now: float | None = None) -> str:
    """The file text: header, then one line per record, keys in byte order."""
    when = time.strftime(
        "%a %b %e %H:%M:%S %Y", time.localtime(now if now is not None else time.time())
    )
    lines = [format_record(records[key]) for key in sorted(records, key=lambda k: k.encode())]
    return _HEADER.format(when=when) + "".join(line + "\n" for line in lines)


def write_db_file(path: Path, records: dict[str, DbRecord], *, now: float | None = None) -> None:
    """Rewrite the whole file atomically (temp file in the same directory, then rename),
    keeping the old file's owner and mode."""
    data = render_db(records, now=now).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        st = os.stat(path)
        mode, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
    except FileNotFoundError:
        mode, owner = 0o644, None
    uid, gid = owner if owner is not None and os.geteuid() == 0 else (-1, -1)
    write_file_atomically(str(path), data, mode, uid, gid)
