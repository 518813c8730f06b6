"""Reader for e-smith database files (/home/e-smith/db/*).

Format (verified in SME 10's esmith::DB::db): one record per line, `key=type|prop|val|prop|val`,
split at the first "=". A record with no properties is `key=value` (its value is its type).
Lines starting with "#" are comments. A newline inside a value is stored as a literal "\\n";
"|" is not escaped at all, so a value containing it cannot be represented (see
`smewizard.validate.db_value`). Reads parse the file directly; writes go through SME's `db`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DB_DIR = "/home/e-smith/db"


class DbFormatError(ValueError):
    """A db file that cannot be read at all (not text)."""


@dataclass(frozen=True)
class DbRecord:
    key: str
    type: str
    props: dict[str, str] = field(default_factory=dict)

    def get(self, prop: str, default: str | None = None) -> str | None:
        return self.props.get(prop, default)


@dataclass(frozen=True)
class DbProblem:
    """A line of a db file we could not make sense of; it is skipped, never guessed."""

    line_number: int
    line: str
    reason: str


@dataclass(frozen=True)
class Db:
    name: str
    records: dict[str, DbRecord]
    problems: tuple[DbProblem, ...] = ()

    def get(self, key: str) -> DbRecord | None:
        return self.records.get(key)

    def prop(self, key: str, prop: str) -> str | None:
        record = self.records.get(key)
        return record.props.get(prop) if record else None

    def of_type(self, rtype: str) -> list[DbRecord]:
        return [r for r in self.records.values() if r.type == rtype]


def unescape(value: str) -> str:
    return value.replace("\\n", "\n")


def parse_db(name: str, text: str) -> Db:
    """Parse an e-smith db file's text. Bad lines become `problems`, not exceptions.

    Lines are split at "\n" only, as SME's Perl does (str.splitlines() would also split at
    U+2028, NEL, form feed… inside a value). A line SME can still read, though oddly (odd
    number of property fields, duplicate property), is kept as SME reads it *and* reported.
    """
    records: dict[str, DbRecord] = {}
    problems: list[DbProblem] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        record, reason = parse_line(line)
        if reason:
            problems.append(DbProblem(number, line[:200], reason))
        if record is None:
            continue
        if record.key in records:
            problems.append(DbProblem(number, line[:200], f"duplicate key {record.key!r}; later line wins"))
        records[record.key] = record
    return Db(name=name, records=records, problems=tuple(problems))


def parse_line(line: str) -> tuple[DbRecord | None, str]:
    """(record, "") for a good line; (None, reason) for a line that is skipped; (record, reason)
    for a line kept the way SME's esmith::db reads it but worth reporting."""
    if "=" not in line:
        return None, "no '=' between key and value"
    key, _, rest = line.partition("=")
    if not key or key != key.strip() or any(c in key for c in "|\t"):
        return None, f"invalid key {key[:40]!r}"
    fields = rest.split("|")
    rtype, pairs = fields[0], fields[1:]
    notes: list[str] = []
    if len(pairs) % 2:
        # esmith::db: `%props = split /\|/` gives the last property an empty (undef) value.
        notes.append("odd number of property fields (a value containing '|'?); last property read as empty")
        pairs.append("")
    props: dict[str, str] = {}
    for i in range(0, len(pairs), 2):
        prop = pairs[i]
        if not prop:
            notes.append("empty property name; that property is ignored")
            continue
        if prop in props:
            notes.append(f"property {prop!r} appears twice; the later value wins")
        props[prop] = unescape(pairs[i + 1])
    return DbRecord(key=key, type=unescape(rtype), props=props), "; ".join(notes)


def db_path(name: str) -> str:
    return f"{DB_DIR}/{name}"


def read_db(host, name: str) -> Db:  # host: smewizard.host.Host
    """Read and parse one db from the server. A missing db reads as empty with a problem."""
    from smewizard.host import NotFound

    try:
        data = host.read_bytes(db_path(name))
    except NotFound:
        return Db(name=name, records={}, problems=(DbProblem(0, "", f"{db_path(name)} does not exist"),))
    if b"\x00" in data:
        raise DbFormatError(f"{db_path(name)} contains NUL bytes; it is not an e-smith db file")
    return parse_db(name, data.decode("utf-8", errors="replace"))


def format_record(record: DbRecord) -> str:
    """The on-disk line for a record (used by the simulated `db`)."""
    if not record.props and record.type is not None:
        return f"{record.key}={_escape(record.type)}"
    parts = [record.type] + [x for k in sorted(record.props) for x in (k, _escape(record.props[k]))]
    return f"{record.key}=" + "|".join(parts)


def _escape(value: str) -> str:
    return value.replace("\n", "\\n")
