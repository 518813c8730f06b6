"""Step 1, SPF (guide Part 1): every hosted domain publishes one SPF record that lets the
server's public IP and the relay/smarthost IP(s) pass, without ptr, without +all/?all, within
RFC 7208's limits. Codes SPF001… are documented in docs/finding-codes.md."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from smewizard import validate
from smewizard.dns import Lookup
from smewizard.mail.spf import (
    MAX_DNS_LOOKUPS,
    MAX_VOID_LOOKUPS,
    Evaluation,
    LookupCount,
    ParsedSpf,
    SpfFetch,
    SpfSyntaxError,
    count_lookups,
    evaluate,
    is_spf_record,
    kept_terms_record,
    lookups_after_proposal,
    parse_spf,
    propose_spf,
    salvage_spf,
    targets_to_fetch,
)
from smewizard.model import Assessment, Finding, Record, Status
from smewizard.steps.base import Context, ServerFacts

PART = "Part 1"
MAX_FETCHED_TARGETS = 60  # include/redirect/a/mx names followed per domain; a guard on hostile records


# ------------------------------------------------------------------------------- facts
@dataclass(frozen=True)
class SenderIp:
    address: str
    role: str  # "server" or "relay"
    source: str


@dataclass(frozen=True)
class DomainSpf:
    domain: str
    txt: Lookup | None  # None when the domain name itself is invalid
    spf_rr: Lookup | None  # the obsolete type-99 SPF record
    records: tuple[str, ...] = ()  # every v=spf1 TXT string at the domain
    parsed: ParsedSpf | None = None
    syntax_error: str | None = None
    lookups: LookupCount | None = None
    evaluations: tuple[Evaluation, ...] = ()
    kept_evaluations: tuple[Evaluation, ...] = ()  # with only the terms a proposal keeps
    invalid_name: str | None = None


@dataclass(frozen=True)
class SpfFacts:
    domains: tuple[DomainSpf, ...]
    senders: tuple[SenderIp, ...]
    networks: tuple[str, ...]  # --spf-network
    public_ip_unknown: str | None  # why we do not know the server's public IP, None if known
    relay_host: str | None
    relay_unknown: str | None  # why the relay's IPs are unknown, None if known or no relay

    def role(self, ip: str) -> str:
        return next((s.role for s in self.senders if s.address == ip), "server")


# ------------------------------------------------------------------------------- probe
async def probe(ctx: Context, server: ServerFacts) -> SpfFacts:
    senders = [SenderIp(p.address, "server", p.source) for p in server.public_ips]
    senders += [
        SenderIp(ip, "relay", f"smarthost {server.relay_host}")
        for ip in server.relay_ips
        if ip not in {s.address for s in senders}
    ]
    names = (*server.domains, *(name for name, _ in server.invalid_domains))
    domains = await asyncio.gather(*(probe_domain(ctx, d, senders) for d in names))
    return SpfFacts(
        domains=tuple(domains),
        senders=tuple(senders),
        networks=tuple(ctx.spf_networks),
        public_ip_unknown=_public_ip_problem(server),
        relay_host=server.relay_host,
        relay_unknown=_relay_problem(server),
    )


def _public_ip_problem(server: ServerFacts) -> str | None:
    if server.public_ips:
        return None
    lookup = server.public_ip_lookup
    if lookup is not None and lookup.failed:
        return f"the A lookup of {lookup.name} failed: {lookup.describe()}"
    if lookup is not None:
        return f"{lookup.name} has no A record and ExternalIP is not set"
    return "ExternalIP is not set and the server has no FQDN to look up"


def _relay_problem(server: ServerFacts) -> str | None:
    if not server.relay_host or server.relay_ips:
        return None
    lookup = server.relay_lookup
    detail = lookup.describe() if lookup else "no address"
    return f"the smarthost {server.relay_host} could not be resolved: {detail}"


async def probe_domain(ctx: Context, domain: str, senders: list[SenderIp]) -> DomainSpf:
    try:
        domain = validate.domain_name(domain)
    except validate.InvalidValue as exc:
        return DomainSpf(domain=domain, txt=None, spf_rr=None, invalid_name=str(exc))
    txt, spf_rr = await asyncio.gather(ctx.dns.txt(domain), ctx.dns.lookup(domain, "SPF"))
    if not txt.ok:
        return DomainSpf(domain=domain, txt=txt, spf_rr=spf_rr)
    records = tuple(v for v in txt.values if is_spf_record(v))
    parsed, error, count = None, None, None
    if len(records) == 1:
        try:
            parsed = parse_spf(records[0])
        except SpfSyntaxError as exc:
            error = str(exc)
        if parsed is not None:
            count = await _count(ctx, parsed, domain)
    evaluations: tuple[Evaluation, ...] = ()
    kept: tuple[Evaluation, ...] = ()
    if records:
        evaluations = await _evaluate_all(ctx, domain, senders)
        dead = count.dead_terms if count else ()
        kept = await _evaluate_kept(ctx, domain, senders, parsed, records, evaluations, dead)
    return DomainSpf(domain, txt, spf_rr, records, parsed, error, count, evaluations, kept)


async def _evaluate_all(
    ctx: Context, domain: str, senders: list[SenderIp], record: str | None = None
) -> tuple[Evaluation, ...]:
    resolver = ctx.dns.sync_resolver()
    return tuple(await asyncio.gather(*(
        ctx.io(evaluate, resolver, domain, s.address, timeout=ctx.dns.timeout, record=record)
        for s in senders
    )))


async def _evaluate_kept(
    ctx: Context,
    domain: str,
    senders: list[SenderIp],
    parsed: ParsedSpf | None,
    records: tuple[str, ...],
    evaluations: tuple[Evaluation, ...],
    dead: tuple[str, ...],
) -> tuple[Evaluation, ...]:
    """How senders fare once a proposal drops ptr/+all/dead references or merges broken
    records (the published results when nothing is dropped)."""
    if parsed is not None and not parsed.uses_ptr and parsed.all_qualifier != "+" and not dead:
        return evaluations
    base = parsed if parsed is not None else salvage_spf(records)
    if base is None:
        return ()
    return await _evaluate_all(ctx, domain, senders, kept_terms_record(base, dead))


async def _count(ctx: Context, parsed: ParsedSpf, domain: str) -> LookupCount:
    """Fetch include/redirect targets level by level (concurrently), then count."""
    fetched: dict[str, SpfFetch] = {}
    hosts: dict[tuple[str, str], bool | None] = {}
    pending = [(parsed, domain)]
    while pending and len(fetched) + len(hosts) < MAX_FETCHED_TARGETS:
        names: set[str] = set()
        host_queries: set[tuple[str, str]] = set()
        for record, owner in pending:
            spf_names, host_names = targets_to_fetch(record, owner)
            names.update(n for n in spf_names if n not in fetched)
            host_queries.update(h for h in host_names if h not in hosts)
        names_list, hosts_list = sorted(names), sorted(host_queries)
        txts = await ctx.dns.many((n, "TXT") for n in names_list)
        answers = await ctx.dns.many(hosts_list)
        for (name, rtype), lookup in zip(hosts_list, answers, strict=True):
            hosts[(name, rtype)] = None if lookup.failed else lookup.absent
        pending = []
        for name, lookup in zip(names_list, txts, strict=True):
            fetch = SpfFetch(
                records=tuple(v for v in lookup.values if is_spf_record(v)),
                failed=lookup.failed,
                absent=lookup.absent,
            )
            fetched[name] = fetch
            if len(fetch.records) == 1:
                try:
                    pending.append((parse_spf(fetch.records[0]), name))
                except SpfSyntaxError:
                    pass
    return count_lookups(parsed, domain, fetched, hosts)


# ------------------------------------------------------------------------------- assess
def assess(facts: SpfFacts) -> Assessment:
    findings: list[Finding] = []
    records: list[Record] = []
    findings += _server_findings(facts)
    for domain in facts.domains:
        domain_findings, record = assess_domain(facts, domain)
        findings += domain_findings
        if record is not None:
            records.append(record)
    return Assessment(step="spf", findings=tuple(findings), records=tuple(records))


def _server_findings(facts: SpfFacts) -> list[Finding]:
    out = []
    if facts.public_ip_unknown:
        out.append(Finding(
            "SPF013", Status.UNKNOWN,
            "The server's public IP is unknown, so SPF cannot be checked against it",
            f"We could not learn the address the server sends mail from ({facts.public_ip_unknown}). "
            "Without it we cannot tell whether receivers will accept your mail, and we propose no "
            "SPF record. Run again with --public-ip ADDRESS (repeatable). See guide Part 1.",
            PART,
        ))
    if facts.relay_unknown:
        out.append(Finding(
            "SPF018", Status.UNKNOWN,
            f"The relay {facts.relay_host} could not be resolved, so its IPs cannot be checked",
            f"{facts.relay_unknown}. Mail leaving through the smarthost is seen by receivers "
            "as coming from the relay's address, so SPF must allow it; we propose no record "
            "until the relay's addresses are known. Check the smarthost name in the server "
            "configuration, or retry when DNS answers. See guide Part 1.",
            PART,
        ))
    return out


def assess_domain(facts: SpfFacts, d: DomainSpf) -> tuple[list[Finding], Record | None]:
    def finding(code: str, status: Status, message: str, explanation: str) -> Finding:
        return Finding(code, status, message, explanation + " See guide Part 1.", PART, d.domain)

    if d.invalid_name is not None or d.txt is None:
        return [finding("SPF021", Status.UNKNOWN, "Hosted domain name is not valid; not checked",
                        f"{d.invalid_name}. Fix the domain's entry in the domains db.")], None
    out: list[Finding] = []
    out += _spf_rr_findings(d, finding)
    if d.txt.failed:
        out.append(finding(
            "SPF014", Status.UNKNOWN, f"Could not read the TXT records of {d.domain}",
            f"The DNS lookup failed ({d.txt.describe()}). That does not mean the record is "
            "missing, so we propose nothing; retry, or point --nameserver at a working resolver.",
        ))
        return out, None
    if not d.records:
        out.append(finding(
            "SPF001", Status.FAIL, f"{d.domain} publishes no SPF record",
            "Without an SPF record receivers cannot tell which hosts may send mail for this "
            "domain; many treat such mail as suspicious. Each hosted domain needs its own "
            "record: one on the primary domain does not cover the others. Publish the proposed "
            "TXT record at the registrar.",
        ))
    elif len(d.records) > 1:
        out.append(finding(
            "SPF002", Status.FAIL, f"{d.domain} publishes {len(d.records)} SPF records",
            "RFC 7208 allows exactly one v=spf1 TXT record per name; with more, every receiver "
            "returns a permanent error and SPF fails for all your mail. Replace them with the "
            "single merged record we propose.",
        ))
    elif d.syntax_error:
        out.append(finding(
            "SPF003", Status.FAIL, f"The SPF record of {d.domain} is invalid: {d.syntax_error}",
            "Receivers treat a record with a syntax error as a permanent error, which is as bad "
            "as no record. The proposed record keeps the valid terms.",
        ))
    out += _term_findings(facts, d, finding)
    out += _evaluation_findings(facts, d, finding)
    record = _proposal(facts, d, out)
    if not any(f.status is not Status.PASS and f.status is not Status.INFO for f in out):
        out.append(finding("SPF015", Status.PASS, f"SPF for {d.domain} is complete",
                           "The server and relay addresses pass, and the record is within limits."))
    return out, record


def _spf_rr_findings(d: DomainSpf, finding) -> list[Finding]:
    if d.spf_rr is None or not d.spf_rr.ok:
        return []
    same = d.txt is not None and set(d.spf_rr.values) <= set(d.txt.values)
    return [finding(
        "SPF012", Status.INFO if same else Status.WARN,
        f"{d.domain} still publishes the obsolete SPF record type (type 99)",
        "RFC 7208 section 3.1 retired the SPF DNS record type: receivers only read the TXT "
        "record. Some guides (including the sample zone lines quoted in the guide, "
        "'@ IN SPF …') still show it; we never propose it. It does no harm when identical to "
        "the TXT record, but it is one more thing to keep in sync — remove it at the registrar."
        + ("" if same else " Here it differs from the TXT record, which can mislead whoever "
           "reads the zone."),
    )]


def _term_findings(facts: SpfFacts, d: DomainSpf, finding) -> list[Finding]:
    p = d.parsed
    if p is None:
        return []
    out = []
    if p.uses_ptr:
        out.append(finding("SPF006", Status.WARN, "The record uses the deprecated ptr mechanism",
                           "ptr makes receivers do slow reverse lookups, RFC 7208 says not to use "
                           "it, and many receivers ignore it. The proposal drops it and lists the "
                           "addresses explicitly."))
    qualifier = p.all_qualifier
    if qualifier == "+":
        out.append(finding("SPF007", Status.FAIL, "The record ends with +all: anyone may send as this domain",
                           "+all makes every host on the internet pass SPF for your domain, "
                           "which is worse than no record. Use ~all."))
    elif qualifier == "?" or (qualifier is None and p.redirect is None):
        what = "?all" if qualifier == "?" else "no 'all' mechanism"
        out.append(finding("SPF008", Status.WARN, f"The record has {what}: unlisted senders get 'neutral'",
                           "A neutral result gives receivers nothing to act on, so forged mail "
                           "is treated like mail from a host with no SPF at all. End the record "
                           "with ~all."))
    elif qualifier == "-" and not _known_complete(facts, d):
        out.append(finding("SPF009", Status.WARN, "The record ends with -all before it is known to be complete",
                           "-all tells receivers to reject mail from any unlisted host. While a "
                           "sending address (the server or the relay) is missing or unknown, that "
                           "rejects your own mail. Use ~all until every sender passes, then "
                           "consider -all."))
    if p.redirect_ignored:
        out.append(finding("SPF020", Status.INFO, "redirect= is ignored because the record has 'all'",
                           "RFC 7208 applies redirect= only when no 'all' mechanism matches; here "
                           "the redirect never takes effect. Remove one of the two."))
    if p.duplicates:
        out.append(finding("SPF016", Status.WARN,
                           f"Mechanisms repeated: {', '.join(p.duplicates)}",
                           "Repeats change nothing but cost receivers extra work (and DNS lookups "
                           "for include/a/mx). The proposal lists each once."))
    out += _count_findings(d, finding)
    return out


def _count_findings(d: DomainSpf, finding) -> list[Finding]:
    c = d.lookups
    if c is None:
        return []
    out = []
    if c.too_many:
        costly = ", ".join(f"{term} ({n})" for term, n in c.by_term if n)
        out.append(finding("SPF010", Status.FAIL,
                           f"The record needs {c.total} DNS lookups; the limit is {MAX_DNS_LOOKUPS}",
                           "Receivers stop at 10 lookups (include, a, mx, ptr, exists, redirect, "
                           f"counted through includes) and return a permanent error. Costs: {costly}. "
                           "Replace a/mx with explicit ip4/ip6 terms or drop includes of services "
                           "you no longer use."))
    if c.too_many_void:
        out.append(finding("SPF011", Status.FAIL,
                           f"{c.void} of the record's lookups return nothing (limit {MAX_VOID_LOOKUPS})",
                           "Names in the record that do not exist (void lookups) count against a "
                           "limit of 2; beyond it receivers return a permanent error. Remove "
                           "terms pointing at names that no longer exist."))
    for problem in c.problems:
        out.append(finding("SPF017", Status.FAIL, f"Broken reference in the record: {problem}",
                           "A receiver following this term gets a permanent error, so SPF fails "
                           "for every message. Fix or remove the term."))
    if c.incomplete:
        out.append(finding("SPF019", Status.UNKNOWN,
                           "Some names the record refers to could not be looked up",
                           "A DNS lookup for an include/redirect/a/mx target failed, so the "
                           f"lookup count ({c.total} so far) is a lower bound. Retry later."))
    return out


_RESULT_WORDS = {
    "fail": "fails (receivers may reject the mail)",
    "softfail": "soft-fails (receivers mark the mail as suspicious)",
    "neutral": "is neutral (not authorised)",
    "none": "gets no result",
    "permerror": "gets a permanent error",
    "temperror": "could not be evaluated (DNS failed)",
}


def _evaluation_findings(facts: SpfFacts, d: DomainSpf, finding) -> list[Finding]:
    out = []
    for ev in d.evaluations:
        role = facts.role(ev.ip)
        code = "SPF004" if role == "server" else "SPF005"
        who = "server" if role == "server" else f"relay {facts.relay_host}"
        if ev.passes:
            out.append(finding(code, Status.PASS, f"The {who} IP {ev.ip} passes SPF for {d.domain}",
                               "Receivers checking mail from this address for this domain get 'pass'."))
        elif ev.result == "temperror":
            out.append(finding(code, Status.UNKNOWN, f"SPF for the {who} IP {ev.ip} could not be evaluated",
                               f"A DNS lookup failed during evaluation ({ev.detail}); we cannot tell "
                               "whether the address passes, so we propose nothing for it."))
        else:
            explanation = (f"check_host({ev.ip}, {d.domain}) gives '{ev.result}' ({ev.detail}). ")
            explanation += (_RELAY_PROBLEM if role == "relay" else
                            "The server sends its own mail from this address; the record must "
                            "authorise it. The proposal adds it.")
            out.append(finding(code, Status.FAIL,
                               f"The {who} IP {ev.ip} {_RESULT_WORDS.get(ev.result, ev.result)} for {d.domain}",
                               explanation))
    return out


_RELAY_PROBLEM = (
    "Outbound mail goes through the provider's smarthost, so receivers see the relay's address, "
    "not the server's. A record listing only the server's IP makes that mail fail SPF — the "
    "most common SPF mistake on SME. The proposal adds the relay's address (or the subnet "
    "given with --spf-network)."
)


def _known_complete(facts: SpfFacts, d: DomainSpf) -> bool:
    if facts.public_ip_unknown or facts.relay_unknown or not facts.senders:
        return False
    return bool(d.evaluations) and all(ev.passes for ev in d.evaluations)


def _settled_by_kept_terms(f: Finding, d: DomainSpf) -> bool:
    """An evaluation that failed on DNS (typically ptr's reverse lookups) does not block a
    proposal when the terms the proposal keeps evaluate without error."""
    if f.code not in ("SPF004", "SPF005") or not d.kept_evaluations:
        return False
    return d.kept_evaluations != d.evaluations and all(
        e.result != "temperror" for e in d.kept_evaluations
    )


def _proposal(facts: SpfFacts, d: DomainSpf, findings: list[Finding]) -> Record | None:
    """A corrected record when something is wrong and nothing we rely on is unknown."""
    if facts.public_ip_unknown or facts.relay_unknown or not facts.senders:
        return None
    if any(f.status is Status.UNKNOWN and not _settled_by_kept_terms(f, d) for f in findings):
        return None
    if not any(f.status in (Status.FAIL, Status.WARN) and f.code != "SPF012" for f in findings):
        return None
    current = d.parsed if d.parsed is not None else salvage_spf(d.records)
    server = [s.address for s in facts.senders if s.role == "server"]
    relay = [s.address for s in facts.senders if s.role == "relay"]
    passing = {e.ip for e in d.kept_evaluations if e.passes}
    value = propose_spf(current, server, relay, facts.networks, passing=passing,
                        allow_hard_fail=d.parsed is not None,
                        drop=d.lookups.dead_terms if d.lookups else (),
                        costs=dict(d.lookups.by_term) if d.lookups else None)
    if d.records and value == d.records[0] and len(d.records) == 1:
        return None
    if len(d.records) > 1:
        note = (f"Replaces all {len(d.records)} current SPF TXT records: delete the others, a name "
                "may publish only one (two make SPF fail with permerror).")
    else:
        note = "Replaces the current SPF TXT record." if d.records else "New SPF TXT record."
    if d.spf_rr is not None and d.spf_rr.ok and d.spf_rr.values:
        note += " Delete the obsolete type-99 SPF record too."
    note += (" Publish it as TXT only: the SPF record type in the guide's sample zone lines "
             "('@ IN SPF') was retired by RFC 7208.")
    draft = False
    if d.lookups is not None:
        after = lookups_after_proposal(d.lookups, value)
        if after > MAX_DNS_LOOKUPS:
            # published as is it would still fail (permerror): a draft, never among the records
            # to publish, until the admin drops the includes the server does not send through
            draft = True
            note += (f" A draft: it still needs {after} DNS lookups (limit {MAX_DNS_LOOKUPS}), so "
                     "receivers would still get a permanent error; publish it only after removing "
                     "includes you do not send through.")
    return Record(name=d.domain, rtype="TXT", value=value, domain=d.domain, note=note, optional=draft)


@dataclass(frozen=True)
class SpfStep:
    key: str = "spf"
    title: str = "SPF"
    parts: tuple[str, ...] = (PART,)

    async def probe(self, ctx: Context, server: ServerFacts) -> SpfFacts:
        return await probe(ctx, server)

    def assess(self, facts: SpfFacts) -> Assessment:
        return assess(facts)


STEP = SpfStep()
