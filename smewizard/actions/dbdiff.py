"""Undo data for actions that do not say how to undo themselves: the e-smith dbs are read
before the action and after it, and the difference becomes the inverse (SetProp back, DelProp
for a prop that did not exist, DeleteRecord for a record that did not exist, RestoreRecord for
one that was deleted or retyped). Only db changes are covered this way; file changes need the
action's own `undo_actions()`.
"""

from __future__ import annotations

import re
from typing import Any

from smewizard.actions.base import Action, DeleteRecord, DelProp, RestoreRecord, SetProp
from smewizard.host.base import Host, HostError
from smewizard.sme.db import DB_DIR, read_db

_DB_FILE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")

Snapshot = dict[str, dict[str, list[Any]]]  # db -> key -> [type, {prop: value}]


def snapshot(host: Host) -> Snapshot:
    """Every e-smith db's records, as plain JSON-able data."""
    out: Snapshot = {}
    try:
        names = host.list_dir(DB_DIR)
    except HostError:
        return out
    for name in names:
        if not _DB_FILE.fullmatch(name):
            continue  # not a db (e.g. a .json state file or a temp file)
        try:
            db = read_db(host, name)
        except (HostError, ValueError):
            continue
        out[name] = {key: [rec.type, dict(rec.props)] for key, rec in db.records.items()}
    return out


def inverse(before: Snapshot, after: Snapshot, step: str = "", domain: str | None = None) -> list[Action]:
    """Actions that turn the `after` dbs back into `before`."""
    actions: list[Action] = []
    for db in sorted(set(before) | set(after)):
        old, new = before.get(db, {}), after.get(db, {})
        for key in sorted(set(old) | set(new)):
            actions.extend(_record_inverse(db, key, old.get(key), new.get(key), step, domain))
    return actions


def _record_inverse(db, key, old, new, step, domain) -> list[Action]:
    """Raises InvalidValue for a value the validators refuse (then there is no safe inverse)."""
    if old == new:
        return []
    if old is None:
        return [DeleteRecord(db, key, step, domain)]
    old_type, old_props = old
    if new is None or new[0] != old_type:
        return [RestoreRecord(db, key, old_type, tuple(sorted(old_props.items())), step, domain)]
    new_props = new[1]
    out: list[Action] = []
    for prop in sorted(set(old_props) | set(new_props)):
        if prop not in old_props:
            out.append(DelProp(db, key, prop, step, domain))
        elif old_props[prop] != new_props.get(prop):
            out.append(SetProp(db, key, prop, old_props[prop], step, domain))
    return out
