"""What aggregate reports say, per domain and per sending IP, and a daily pass-rate series.

`summarize` is pure. `enrich` adds, per source, whether the domain's SPF record authorises the
IP (the SPF step's pyspf evaluation through our resolver) and the IP's reverse name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from smewizard.dmarc.reports import AggregateReport

MAX_ENRICHED_SOURCES = 100  # per domain, busiest first: bounded DNS work


@dataclass(frozen=True)
class SourceSummary:
    """Everything reports say about one sending IP for one domain."""

    ip: str
    messages: int
    dkim_aligned: int  # messages whose DKIM passed *and* aligned with the From: domain
    spf_aligned: int
    passed: int  # DMARC pass: aligned DKIM or aligned SPF
    dkim_auth_pass: int = 0  # DKIM passed for some domain, aligned or not
    header_froms: tuple[str, ...] = ()
    in_spf: bool | None = None  # None: not checked or the check failed
    reverse_name: str | None = None

    @property
    def pass_rate(self) -> float:
        return self.passed / self.messages if self.messages else 0.0

    @property
    def dkim_rate(self) -> float:
        return self.dkim_aligned / self.messages if self.messages else 0.0

    @property
    def spf_rate(self) -> float:
        return self.spf_aligned / self.messages if self.messages else 0.0

    @property
    def failed(self) -> int:
        return self.messages - self.passed

    def to_json(self) -> dict[str, object]:
        return {
            "ip": self.ip,
            "messages": self.messages,
            "dmarc_pass": self.passed,
            "dkim_aligned_pass": self.dkim_aligned,
            "spf_aligned_pass": self.spf_aligned,
            "pass_rate": round(self.pass_rate, 4),
            "dkim_aligned_rate": round(self.dkim_rate, 4),
            "spf_aligned_rate": round(self.spf_rate, 4),
            "in_spf": self.in_spf,
            "reverse_name": self.reverse_name,
            "header_from": list(self.header_froms),
        }


@dataclass(frozen=True)
class DayPoint:
    day: date
    messages: int
    passed: int

    @property
    def rate(self) -> float:
        return self.passed / self.messages if self.messages else 0.0


@dataclass(frozen=True)
class PolicySeen:
    """A published policy as receivers saw it, and the earliest report showing it."""

    stage: str  # ramp stage key: none, quarantine-test, quarantine, reject-test, reject
    first: datetime
    last: datetime


@dataclass(frozen=True)
class DomainSummary:
    domain: str
    reports: int
    messages: int
    passed: int
    dkim_aligned: int
    spf_aligned: int
    sources: tuple[SourceSummary, ...]  # busiest first
    daily: tuple[DayPoint, ...]
    policies: tuple[PolicySeen, ...] = ()
    reporters: tuple[str, ...] = ()
    first: datetime | None = None
    last: datetime | None = None

    @property
    def pass_rate(self) -> float:
        return self.passed / self.messages if self.messages else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "reports": self.reports,
            "messages": self.messages,
            "dmarc_pass": self.passed,
            "pass_rate": round(self.pass_rate, 4),
            "dkim_aligned_pass": self.dkim_aligned,
            "spf_aligned_pass": self.spf_aligned,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "reporters": list(self.reporters),
            "policies_seen": [
                {"stage": p.stage, "first": p.first.isoformat(), "last": p.last.isoformat()} for p in self.policies
            ],
            "sources": [s.to_json() for s in self.sources],
            "daily": [{"day": d.day.isoformat(), "messages": d.messages, "dmarc_pass": d.passed} for d in self.daily],
        }


@dataclass(frozen=True)
class Summary:
    domains: tuple[DomainSummary, ...] = ()
    foreign: tuple[tuple[str, int], ...] = ()  # (domain, reports) for domains we do not host

    def for_domain(self, domain: str) -> DomainSummary | None:
        for d in self.domains:
            if d.domain == domain:
                return d
        return None


def stage_of(p: str, testing: str) -> str:
    """Ramp stage key for a published policy (testing = the DMARC t flag, "y"/"n"/"")."""
    p = p if p in ("none", "quarantine", "reject") else "none"
    if p != "none" and testing == "y":
        return f"{p}-test"
    return p


@dataclass
class _Acc:
    messages: int = 0
    passed: int = 0
    dkim: int = 0
    spf: int = 0
    dkim_auth: int = 0
    froms: set[str] = field(default_factory=set)


def summarize(reports: Iterable[AggregateReport], domains: Iterable[str] | None = None, since: datetime | None = None) -> Summary:
    """Per-domain and per-source totals. Reports for domains outside `domains` (when given)
    are counted in `foreign`, not summarised; reports ending before `since` are ignored."""
    wanted = {d.lower() for d in domains} if domains is not None else None
    by_domain: dict[str, list[AggregateReport]] = {}
    foreign: dict[str, int] = {}
    for report in reports:
        if since is not None and report.end < since:
            continue
        if wanted is not None and report.domain not in wanted:
            foreign[report.domain] = foreign.get(report.domain, 0) + 1
            continue
        by_domain.setdefault(report.domain, []).append(report)
    return Summary(
        tuple(_domain_summary(d, rs) for d, rs in sorted(by_domain.items())),
        tuple(sorted(foreign.items())),
    )


def _domain_summary(domain: str, reports: list[AggregateReport]) -> DomainSummary:
    sources: dict[str, _Acc] = {}
    days: dict[date, list[int]] = {}
    policies: dict[str, list[datetime]] = {}
    for report in reports:
        day = days.setdefault(report.begin.date(), [0, 0])
        stage = stage_of(report.policy.p, report.policy.testing)
        seen = policies.setdefault(stage, [report.begin, report.end])
        seen[0], seen[1] = min(seen[0], report.begin), max(seen[1], report.end)
        for row in report.rows:
            acc = sources.get(row.source_ip)
            if acc is None:
                acc = sources[row.source_ip] = _Acc()
            n = row.count
            ok = n if (row.dkim == "pass" or row.spf == "pass") else 0
            acc.messages += n
            acc.passed += ok
            if row.dkim == "pass":
                acc.dkim += n
            if row.spf == "pass":
                acc.spf += n
            if any(a.result == "pass" for a in row.dkim_auth):
                acc.dkim_auth += n
            if row.header_from:
                acc.froms.add(row.header_from)
            day[0] += n
            day[1] += ok
    summaries = tuple(sorted(
        (SourceSummary(ip, a.messages, a.dkim, a.spf, a.passed, a.dkim_auth, tuple(sorted(a.froms)))
         for ip, a in sources.items()),
        key=lambda s: (-s.messages, s.ip),
    ))
    return DomainSummary(
        domain=domain,
        reports=len(reports),
        messages=sum(s.messages for s in summaries),
        passed=sum(s.passed for s in summaries),
        dkim_aligned=sum(s.dkim_aligned for s in summaries),
        spf_aligned=sum(s.spf_aligned for s in summaries),
        sources=summaries,
        daily=tuple(DayPoint(d, v[0], v[1]) for d, v in sorted(days.items())),
        policies=tuple(sorted((PolicySeen(k, v[0], v[1]) for k, v in policies.items()), key=lambda p: p.first)),
        reporters=tuple(sorted({r.org_name for r in reports if r.org_name})),
        first=min(r.begin for r in reports),
        last=max(r.end for r in reports),
    )


async def enrich(summary: Summary, dns, *, limit: int = MAX_ENRICHED_SOURCES, concurrency: int = 16) -> Summary:
    """Add `in_spf` and `reverse_name` to the busiest sources of each domain (real DNS)."""
    from smewizard.mail.spf import evaluate

    gate = asyncio.Semaphore(concurrency)
    resolver = dns.sync_resolver()

    async def one(domain: str, source: SourceSummary) -> SourceSummary:
        async with gate:
            ptr = await dns.ptr(source.ip)
            try:
                evaluation = await asyncio.to_thread(evaluate, resolver, domain, source.ip, timeout=dns.timeout * 3)
                result = evaluation.result
            except Exception:  # noqa: BLE001 - a failed check is "unknown", never "not in SPF"
                result = "temperror"
        in_spf = None if result in ("temperror", "permerror") else result == "pass"
        return replace(source, in_spf=in_spf, reverse_name=ptr.values[0] if ptr.ok and ptr.values else None)

    out = []
    for d in summary.domains:
        head = await asyncio.gather(*(one(d.domain, s) for s in d.sources[:limit]))
        out.append(replace(d, sources=(*head, *d.sources[limit:])))
    return replace(summary, domains=tuple(out))


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(points: Iterable[DayPoint]) -> str:
    """Daily DMARC pass rate as block characters (0 % → ▁, 100 % → █); "·" for a day with no mail."""
    out = []
    for p in points:
        out.append("·" if not p.messages else SPARK[min(int(p.rate * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)])
    return "".join(out)
