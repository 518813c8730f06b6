"""The engine's data: findings, DNS records to publish, and a step's assessment.

Everything here is plain, immutable data so that `assess()` stays pure and the UI and the CLI
render the same objects. Server changes (actions) live in `smewizard.actions`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smewizard.actions import Action


class Status(enum.StrEnum):
    """Outcome of one check. Ordered from best to worst by `severity`."""

    PASS = "pass"
    INFO = "info"
    WARN = "warn"
    UNKNOWN = "unknown"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Status.PASS: 0, Status.INFO: 1, Status.WARN: 2, Status.UNKNOWN: 3, Status.FAIL: 4}


def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """The most severe status, PASS for none."""
    return max(statuses, key=lambda s: s.severity, default=Status.PASS)


@dataclass(frozen=True)
class Finding:
    """One observation about the server or DNS, with a stable code (see docs/finding-codes.md).

    `message` is one line; `explanation` says why it matters and what to do, in our own words;
    `part` is the guide Part it comes from ("Part 1"). `domain` is None for server-wide findings.
    """

    code: str
    status: Status
    message: str
    explanation: str = ""
    part: str = ""
    domain: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "status": str(self.status),
            "message": self.message,
            "explanation": self.explanation,
            "part": self.part,
            "domain": self.domain,
        }


TXT_CHUNK = 255


@dataclass(frozen=True)
class Record:
    """A DNS record the admin must publish at the registrar.

    `name` is fully qualified without the trailing dot ("feb2026._domainkey.example.com").
    `value` is the record's data as one logical string (TXT not yet split into chunks).
    """

    name: str
    rtype: str
    value: str
    ttl: int = 3600
    domain: str | None = None
    note: str = ""
    # offered for a case the note names (e.g. stepping a DMARC policy back), not proposed:
    # never counted among the records to publish
    optional: bool = False

    def relative_name(self, zone: str) -> str:
        """The name as a registrar's form for `zone` wants it: "@" for the apex."""
        name, zone = self.name.rstrip(".").lower(), zone.rstrip(".").lower()
        if name == zone:
            return "@"
        if name.endswith("." + zone):
            return name[: -len(zone) - 1]
        return name + "."

    def chunks(self) -> list[str]:
        """TXT data split into character-strings of at most 255 octets (RFC 1035 3.3)."""
        return txt_chunks(self.value)

    def quoted_chunks(self) -> str:
        """Chunks as a registrar or zone file takes them: "part1" "part2"."""
        return " ".join(_quote_txt(c) for c in self.chunks())

    def zone_line(self, zone: str | None = None) -> str:
        """One BIND zone-file line for this record."""
        owner = self.relative_name(zone) if zone else self.name + "."
        data = self.quoted_chunks() if self.rtype == "TXT" else self.value
        if self.rtype == "TXT" and len(self.chunks()) > 1:
            data = "( " + data + " )"
        return f"{owner}\t{self.ttl}\tIN\t{self.rtype}\t{data}"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.rtype,
            "value": self.value,
            "ttl": self.ttl,
            "chunks": self.chunks() if self.rtype == "TXT" else [self.value],
            "domain": self.domain,
            "note": self.note,
            "optional": self.optional,
        }


def txt_chunks(value: str, size: int = TXT_CHUNK) -> list[str]:
    """Split a TXT value into pieces of at most `size` octets, never inside a UTF-8 character."""
    data = value.encode("utf-8")
    out: list[str] = []
    while data:
        cut = min(size, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    return out or [""]


def _quote_txt(chunk: str) -> str:
    return '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Assessment:
    """What one step concluded: findings, server changes to propose, records to publish."""

    step: str
    findings: tuple[Finding, ...] = ()
    actions: tuple[Action, ...] = ()
    records: tuple[Record, ...] = field(default=())

    @property
    def status(self) -> Status:
        return worst([f.status for f in self.findings])

    def for_domain(self, domain: str | None) -> Assessment:
        """The part of this assessment about one domain (plus server-wide findings)."""
        return Assessment(
            step=self.step,
            findings=tuple(f for f in self.findings if f.domain in (None, domain)),
            actions=tuple(a for a in self.actions if getattr(a, "domain", None) in (None, domain)),
            records=tuple(r for r in self.records if r.domain in (None, domain)),
        )
