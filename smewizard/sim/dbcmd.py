"""SME's `/sbin/e-smith/db` (and `config`, which is `db configuration`) for a simulated root.

Output formats and exit codes follow e-smith-lib's esmith::db and the `db` script (see
docs/sme-v10.md): `show` prints `key=type` then `    Prop=value` per prop (sorted); `print`
prints `key=type|p|v…`; `get` prints the raw value, `gettype` only the type; a missing key (or
prop, for getprop) prints nothing and exits 1; `setprop`/`delprop` on a missing key change
nothing and exit 0; `set` replaces the whole record. Every change rewrites the whole file and
logs OLD/NEW lines to the simulated syslog.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from smewizard.sim import syslog
from smewizard.sim.dbfile import SimDbFile
from smewizard.sme.db import DbRecord, format_record

USAGE = {
    "keys": "db dbfile keys",
    "print": "db dbfile print [key]",
    "show": "db dbfile show [key]",
    "get": "db dbfile get key",
    "gettype": "db dbfile gettype key",
    "getprop": "db dbfile getprop key prop",
    "set": "db dbfile set key type [prop1 val1] [prop2 val2] ...",
    "settype": "db dbfile settype key type",
    "setprop": "db dbfile setprop key prop1 val1 [prop2 val2] ...",
    "delprop": "db dbfile delprop key prop1 [prop2] ...",
    "delete": "db dbfile delete key",
    "printtype": "db dbfile printtype [key]",
    "printprop": "db dbfile printprop key [prop1] ...",
}


class _Usage(Exception):
    pass


def run_db(root: Path, argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """Run `db <dbname> <command> args…` against `root`; return the exit status."""
    if len(argv) < 2 or argv[1] not in USAGE:
        err.write("usage:\n" + "".join(f"    {u}\n" for u in USAGE.values()))
        return 1
    dbname, command, args = argv[0], argv[1], list(argv[2:])
    if "/" in dbname or dbname.startswith("."):
        err.write(f"db: invalid database name {dbname!r}\n")
        return 1
    db = SimDbFile(Path(root), dbname)
    try:
        return _COMMANDS[command](db, args, out)
    except _Usage:
        err.write(f"usage: {USAGE[command]}\n")
        return 1


# ---------------------------------------------------------------- read-only commands
def _keys(db: SimDbFile, args: list[str], out: TextIO) -> int:
    if args:
        raise _Usage
    for key in _sorted(db.load()):
        out.write(key + "\n")
    return 0


def _print(db: SimDbFile, args: list[str], out: TextIO) -> int:
    records = _select(db, args)
    if records is None:
        return 1
    for rec in records:
        out.write(format_record(rec) + "\n")
    return 0


def _show(db: SimDbFile, args: list[str], out: TextIO) -> int:
    records = _select(db, args)
    if records is None:
        return 1
    for rec in records:
        out.write(show_record(rec))
    return 0


def _printtype(db: SimDbFile, args: list[str], out: TextIO) -> int:
    records = _select(db, args)
    if records is None:
        return 1
    for rec in records:
        out.write(f"{rec.key}={rec.type}\n")
    return 0


def _get(db: SimDbFile, args: list[str], out: TextIO) -> int:
    rec = _one(db, args, 1)
    if rec is None:
        return 1
    out.write(format_record(rec).partition("=")[2] + "\n")
    return 0


def _gettype(db: SimDbFile, args: list[str], out: TextIO) -> int:
    rec = _one(db, args, 1)
    if rec is None:
        return 1
    out.write(rec.type + "\n")
    return 0


def _getprop(db: SimDbFile, args: list[str], out: TextIO) -> int:
    rec = _one(db, args, 2)
    if rec is None or args[1] not in rec.props:
        return 1
    out.write(rec.props[args[1]] + "\n")
    return 0


def _printprop(db: SimDbFile, args: list[str], out: TextIO) -> int:
    if not args:
        raise _Usage
    rec = db.load().get(args[0])
    if rec is None:
        return 1
    wanted = args[1:] or sorted(rec.props)
    for prop in wanted:
        if prop in rec.props:
            out.write(f"{prop}={rec.props[prop]}\n")
    return 0


# ---------------------------------------------------------------- changing commands
def _set(db: SimDbFile, args: list[str], out: TextIO) -> int:
    if len(args) < 2 or len(args) % 2:
        raise _Usage
    key, rtype, pairs = args[0], args[1], args[2:]
    props = {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}
    records = db.load()
    _change(db, records, key, DbRecord(key=key, type=rtype, props=props))
    return 0


def _settype(db: SimDbFile, args: list[str], out: TextIO) -> int:
    if len(args) != 2:
        raise _Usage
    records = db.load()
    old = records.get(args[0])
    if old is not None:
        _change(db, records, old.key, DbRecord(key=old.key, type=args[1], props=dict(old.props)))
    return 0


def _setprop(db: SimDbFile, args: list[str], out: TextIO) -> int:
    if len(args) < 3 or len(args) % 2 == 0:
        raise _Usage
    records = db.load()
    old = records.get(args[0])
    if old is None:
        return 0  # SME: a missing key is silently ignored
    props = dict(old.props)
    for i in range(1, len(args), 2):
        props[args[i]] = args[i + 1]
    _change(db, records, old.key, DbRecord(key=old.key, type=old.type, props=props))
    return 0


def _delprop(db: SimDbFile, args: list[str], out: TextIO) -> int:
    if len(args) < 2:
        raise _Usage
    records = db.load()
    old = records.get(args[0])
    if old is None:
        return 0
    props = {k: v for k, v in old.props.items() if k not in args[1:]}
    _change(db, records, old.key, DbRecord(key=old.key, type=old.type, props=props))
    return 0


def _delete(db: SimDbFile, args: list[str], out: TextIO) -> int:
    rec = _one(db, args, 1)
    if rec is None:
        return 1
    _change(db, db.load(), rec.key, None)
    return 0


# ---------------------------------------------------------------- helpers
def show_record(rec: DbRecord) -> str:
    """`db show` text for one record: `key=type` then `    Prop=value` lines, props sorted."""
    lines = [f"{rec.key}={rec.type}"]
    lines += [f"    {prop}={rec.props[prop]}" for prop in _sorted(rec.props)]
    return "".join(line + "\n" for line in lines)


def _sorted(keys) -> list[str]:
    return sorted(keys, key=lambda k: k.encode())


def _select(db: SimDbFile, args: list[str]) -> list[DbRecord] | None:
    if len(args) > 1:
        raise _Usage
    records = db.load()
    if args:
        rec = records.get(args[0])
        return [rec] if rec is not None else None
    if not records:
        return None
    return [records[k] for k in _sorted(records)]


def _one(db: SimDbFile, args: list[str], count: int) -> DbRecord | None:
    if len(args) != count:
        raise _Usage
    return db.load().get(args[0])


def _change(db: SimDbFile, records: dict[str, DbRecord], key: str, new: DbRecord | None) -> None:
    old = records.get(key)
    if new is None:
        records.pop(key, None)
    else:
        records[key] = new
    db.save(records)
    where = f"/home/e-smith/db/{db.name}"
    if old is not None:
        syslog.log(db.root, "esmith::db", f"{where}: OLD {format_record(old)}")
    if new is not None:
        syslog.log(db.root, "esmith::db", f"{where}: NEW {format_record(new)}")


_COMMANDS: dict[str, Callable[[SimDbFile, list[str], TextIO], int]] = {
    "keys": _keys,
    "print": _print,
    "show": _show,
    "printtype": _printtype,
    "get": _get,
    "gettype": _gettype,
    "getprop": _getprop,
    "printprop": _printprop,
    "set": _set,
    "settype": _settype,
    "setprop": _setprop,
    "delprop": _delprop,
    "delete": _delete,
}


def main(argv: Sequence[str], *, root: str) -> int:
    """Entry point of the `db` shim."""
    return run_db(Path(root), argv, sys.stdout, sys.stderr)


def config_main(argv: Sequence[str], *, root: str) -> int:
    """Entry point of the `config` shim: `config X` is `db configuration X`."""
    return run_db(Path(root), ["configuration", *argv], sys.stdout, sys.stderr)
