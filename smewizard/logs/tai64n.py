"""TAI64N labels as daemontools' multilog writes them: `@` + 24 lower-case hex digits.

The first 16 digits are the TAI64 second count (2**62 + TAI seconds since 1970), the last 8 the
nanoseconds. daemontools (libtai, `tai_now`) stamps the system clock's UTC seconds plus 10, the
TAI-UTC difference of 1970, and `tai64nlocal` subtracts exactly that: 2**62 + 10. We do the
same, so our times agree with tai64nlocal to the nanosecond (it is the CI oracle,
tests/lab/test_tai64n.py). Later leap seconds are not applied by either side: a label is the
system clock, not true TAI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TAI64_EPOCH = 2**62
TAI_UTC_1970 = 10  # seconds; what libtai adds to the Unix clock and tai64nlocal removes
LABEL_LENGTH = 25  # "@" + 16 + 8 hex digits
LABEL_RE = re.compile(rb"@([0-9a-f]{16})([0-9a-f]{8})")
LAST_UNIX_SECOND = 253_402_300_799  # 9999-12-31 23:59:59 UTC: the last time `datetime` holds


class BadLabel(ValueError):
    """Not a TAI64N label."""


@dataclass(frozen=True, order=True)
class Tai64n:
    """A decoded label: Unix seconds (UTC clock) and nanoseconds."""

    unix: int
    nanos: int

    @property
    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.unix, UTC) + timedelta(microseconds=self.nanos // 1000)

    @property
    def timestamp(self) -> float:
        return self.unix + self.nanos / 1e9

    def local_text(self, tz=None) -> str:
        """As tai64nlocal prints it: `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` in local time (or `tz`)."""
        when = datetime.fromtimestamp(self.unix, tz) if tz else datetime.fromtimestamp(self.unix)
        return when.strftime("%Y-%m-%d %H:%M:%S") + f".{self.nanos:09d}"

    def label(self) -> str:
        return f"@{TAI64_EPOCH + TAI_UTC_1970 + self.unix:016x}{self.nanos:08x}"


def decode(label: bytes | str) -> Tai64n:
    """Decode `@4000…` (24 hex digits). Raises BadLabel for anything else."""
    raw = label.encode("ascii", "replace") if isinstance(label, str) else label
    match = LABEL_RE.fullmatch(raw)
    if match is None:
        raise BadLabel(f"not a TAI64N label: {raw[:40]!r}")
    seconds = int(match.group(1), 16)
    nanos = int(match.group(2), 16)
    unix = seconds - TAI64_EPOCH - TAI_UTC_1970
    if seconds < TAI64_EPOCH or unix > LAST_UNIX_SECOND or nanos >= 1_000_000_000:
        raise BadLabel(f"TAI64N label out of range: {raw.decode('ascii')}")
    return Tai64n(unix, nanos)


def encode(when: float) -> str:
    """The label multilog would write at Unix time `when`."""
    secs = int(when // 1)
    nanos = int(round((when - secs) * 1e9))
    if nanos >= 1_000_000_000:
        secs, nanos = secs + 1, nanos - 1_000_000_000
    return Tai64n(secs, nanos).label()


def split_line(line: bytes) -> tuple[Tai64n | None, bytes]:
    """(stamp, text) of one multilog line; stamp None when the line has no valid label."""
    if len(line) > LABEL_LENGTH and line[:1] == b"@" and line[LABEL_LENGTH : LABEL_LENGTH + 1] == b" ":
        try:
            return decode(line[:LABEL_LENGTH]), line[LABEL_LENGTH + 1 :]
        except BadLabel:
            pass
    return None, line


def to_local_lines(data: bytes, tz=None) -> bytes:
    """What `tai64nlocal` does to a whole text: labels at line starts become local times."""
    out = []
    for line in data.splitlines(keepends=True):
        stamp, text = split_line(line)
        out.append(line if stamp is None else stamp.local_text(tz).encode() + b" " + text)
    return b"".join(out)
