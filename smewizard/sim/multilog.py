"""daemontools multilog lines: `@<TAI64N label> <text>` (24 hex digits, lower case)."""

from __future__ import annotations

TAI64_BASE = 2**62 + 10  # TAI64 epoch offset plus the 10 s TAI-UTC difference of 1970


def tai64n_label(when: float) -> str:
    secs = int(when)
    nanos = int(round((when - secs) * 1e9)) % 1_000_000_000
    return f"@{TAI64_BASE + secs:016x}{nanos:08x}"


def multilog_text(entries: list[tuple[float, str]]) -> str:
    return "".join(f"{tai64n_label(t)} {line}\n" for t, line in entries)
