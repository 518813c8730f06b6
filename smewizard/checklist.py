"""The guide's Summary Checklist as data: one row per item, one cell per hosted domain.

Each row names the step that decides it and the finding codes that decide a cell. A cell is:

- `n.a.`    the step is not built (or not run) yet, or the row's prerequisite row is not done
            (see `after`) — never "pass" by default;
- the worst status of the row's deciding findings for that domain (server-wide rows: the
  server-wide findings; a domain row also takes server-wide findings of its codes, e.g. a
  DNS failure), with `info` counted as `pass` (an informational finding is not a problem);
- `recast` overrides a code's status for one row (DMARC021 "not yet time for the next policy"
  is informational in the DMARC step but means "reports not yet conclusive" here: unknown);
- when none of the row's codes was reported: the row's `absent` status — `pass` for rows whose
  codes only report problems (e.g. SPF006 "uses ptr"), `unknown` for rows that need a positive
  finding to pass — except that a row `after` another (the links need a key first) is `n.a.`
  while that row's cell is not `pass`: nothing to check yet is not a pass.

The map is documented for users in docs/check-json.md ("Checklist"). Changing a row's codes is
a behaviour change: keep the tests in tests/test_checklist.py in step.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from smewizard.model import Assessment, Finding, Status


class Cell(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"
    NA = "n.a."

    @property
    def severity(self) -> int:
        return {"pass": 0, "n.a.": 1, "warn": 2, "unknown": 3, "fail": 4}[self.value]


_FROM_STATUS = {
    Status.PASS: Cell.PASS,
    Status.INFO: Cell.PASS,
    Status.WARN: Cell.WARN,
    Status.UNKNOWN: Cell.UNKNOWN,
    Status.FAIL: Cell.FAIL,
}


@dataclass(frozen=True)
class Item:
    key: str
    short: str  # for the dashboard's narrow first column
    title: str  # the guide's wording
    part: str
    step: str
    codes: tuple[str, ...]
    absent: Cell = Cell.UNKNOWN
    per_domain: bool = True
    recast: tuple[tuple[str, Cell], ...] = ()  # codes whose status means something else here
    after: str | None = None  # a row that must pass first, else an absent finding means n.a.


def _codes(prefix: str, *numbers: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{n:03d}" for n in numbers)


ITEMS: tuple[Item, ...] = (
    Item("spf-published", "SPF: server + relay IP", "SPF record published with server IP and relay IP", "Part 1", "spf",
         _codes("SPF", 1, 2, 3, 4, 5, 7, 10, 11, 13, 14, 15, 17, 18, 19, 21)),
    Item("spf-no-ptr", "SPF: no ptr mechanism", "No deprecated ptr mechanism in SPF", "Part 1", "spf",
         _codes("SPF", 6, 14), absent=Cell.PASS),
    Item("dkim-keys", "DKIM key in dkim_keys/", "DKIM keys in /home/e-smith/dkim_keys/[domain]/ (or default/ fallback configured)",
         "Part 2", "dkim", _codes("DKIM", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 18, 26, 29)),
    Item("dkim-signing", "DKIMSigning enabled", "DKIMSigning enabled in qpsmtpd config", "Part 2", "dkim",
         _codes("DKIM", 14), absent=Cell.PASS, per_domain=False),
    Item("email-update", "email-update after keys", "signal-event email-update run after key setup", "Part 2", "dkim",
         _codes("DKIM", 15, 16), absent=Cell.PASS, after="dkim-keys"),
    Item("dkim-links", "qpsmtpd dkim/ links", "Symlinks present in /var/service/qpsmtpd/config/dkim/", "Part 2", "dkim",
         _codes("DKIM", 12, 13, 15, 16, 17), absent=Cell.PASS, after="dkim-keys"),
    Item("dkim-dns", "DKIM record + selector", "DKIM DNS record published with correct selector", "Part 2", "dkim",
         _codes("DKIM", 19, 20, 21, 22, 23, 24, 25, 28)),
    Item("dmarc-published", "DMARC record published", "DMARC record published (start with p=none)", "Part 3", "dmarc",
         _codes("DMARC", 1, 2, 3, 4, 5, 6, 7, 31), absent=Cell.PASS),
    Item("dmarc-rua", "DMARC rua reports", "DMARC rua address configured for aggregate reports", "Part 3", "dmarc",
         _codes("DMARC", 1, 6, 11, 12, 13, 14), absent=Cell.PASS),
    Item("ptr", "PTR = server FQDN", "PTR record matches server FQDN (request from hosting provider)", "Part 4", "helo",
         _codes("HELO", 2, 3, 4, 5, 6, 7, 8, 9, 10), per_domain=False),
    Item("helohost", "HeloHost = FQDN = PTR", "HeloHost matches server FQDN and PTR", "Part 4", "helo",
         _codes("HELO", 13, 14, 17, 18, 20, 21), per_domain=False),
    Item("fqdn-a", "FQDN A = server IP", "FQDN A record resolves to server IP", "Part 4", "helo",
         _codes("HELO", 2, 11, 12), absent=Cell.PASS, per_domain=False),
    Item("double-bounce", "DoubleBounceTo devnull", "DoubleBounceTo devnull configured", "Part 5", "bounce",
         _codes("BNC", 1, 2), per_domain=False),
    Item("junkmail", "Junkmail tmp ownership", "Junkmail tmp directory ownership verified for all users", "Part 5", "bounce",
         _codes("BNC", 3, 4, 5, 6, 7, 8, 9), per_domain=False),
    Item("sa-levels", "SpamAssassin levels", "SpamAssassin TagLevel and RejectLevel set appropriately", "Part 6", "spamassassin",
         _codes("SA", 1, 2, 3, 4, 5), per_domain=False),
    Item("end-to-end", "End-to-end test", "End-to-end test with mail-tester.com completed", "Part 10", "verify",
         _codes("VER", 1, 2, 4, 5, 6, 7, 10)),
    Item("dmarc-reports", "DMARC reports reviewed", "DMARC reports reviewed and sources accounted for", "Part 10", "dmarc",
         _codes("DMARC", 1, 6, 10, 20, 21, 22, 23, 24),
         recast=(("DMARC001", Cell.NA), ("DMARC021", Cell.UNKNOWN), ("DMARC023", Cell.UNKNOWN))),
)

SERVER = "server"  # the column key of server-wide rows


@dataclass(frozen=True)
class CellValue:
    item: Item
    domain: str | None  # None for a server-wide row
    cell: Cell
    findings: tuple[Finding, ...]  # the deciding findings (empty when absent / n.a.)

    def to_json(self) -> dict[str, object]:
        return {"status": str(self.cell), "codes": sorted({f.code for f in self.findings}),
                "step": self.item.step}


@dataclass(frozen=True)
class Checklist:
    domains: tuple[str, ...]
    rows: tuple[tuple[Item, tuple[CellValue, ...]], ...]

    def cell(self, key: str, domain: str | None) -> CellValue:
        for item, cells in self.rows:
            if item.key == key:
                return next(c for c in cells if c.domain == (domain if item.per_domain else None))
        raise KeyError(key)

    def to_json(self) -> dict[str, object]:
        return {
            "domains": list(self.domains),
            "items": [
                {"key": item.key, "title": item.title, "short": item.short, "part": item.part, "step": item.step,
                 "scope": "domain" if item.per_domain else SERVER,
                 "cells": {(c.domain or SERVER): c.to_json() for c in cells}}
                for item, cells in self.rows
            ],
        }


def decide(item: Item, assessment: Assessment | None, domain: str | None) -> CellValue:
    """One cell. `assessment` None = the step is not available or has not run: n.a."""
    if assessment is None:
        return CellValue(item, domain, Cell.NA, ())
    wanted = set(item.codes)
    scope = (domain, None) if domain is not None else (None,)
    found = tuple(f for f in assessment.findings if f.code in wanted and f.domain in scope)
    if not found:
        return CellValue(item, domain, item.absent, ())
    recast = dict(item.recast)
    worst = max((recast.get(f.code, _FROM_STATUS[f.status]) for f in found), key=lambda c: c.severity)
    return CellValue(item, domain, worst, found)


def build(domains: Iterable[str], assessments: Mapping[str, Assessment],
          items: tuple[Item, ...] = ITEMS) -> Checklist:
    domains = tuple(domains)
    rows = []
    decided: dict[tuple[str, str | None], Cell] = {}
    for item in items:
        assessment = assessments.get(item.step)
        cells = tuple(_after(item, decide(item, assessment, d), decided)
                      for d in (domains if item.per_domain else (None,)))
        decided.update(((item.key, c.domain), c.cell) for c in cells)
        rows.append((item, cells))
    return Checklist(domains, tuple(rows))


def _after(item: Item, value: CellValue, decided: Mapping[tuple[str, str | None], Cell]) -> CellValue:
    """A default (absent) cell of a row whose prerequisite row is not done yet becomes n.a."""
    if item.after is None or value.findings or value.cell is Cell.NA:
        return value
    if decided.get((item.after, value.domain)) is Cell.PASS:
        return value
    return CellValue(item, value.domain, Cell.NA, ())
