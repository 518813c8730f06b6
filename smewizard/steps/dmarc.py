"""DMARC step (guide Parts 3 and 10): the record, its reporting, and the evidence-led ramp.

probe: RFC 9989 tree walk per domain, MX and HELO names, external-report authorisations, the
rua mailbox (pseudonym) in the accounts db, aggregate reports in that mailbox, and the ramp
state file. Read-only.
assess: findings DMARC001…, the records to publish, and the server actions (pseudonym, ramp
observation).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime

from smewizard import validate
from smewizard.actions.base import Action, ActionError, SignalEvent, run_checked
from smewizard.dmarc import ramp as rampmod
from smewizard.dmarc.reports import Ingest, ingest_host_maildir
from smewizard.dmarc.summary import DomainSummary, Summary, enrich, summarize
from smewizard.dns import Lookup
from smewizard.mail import dmarc as dm
from smewizard.model import Assessment, Finding, Record, Status
from smewizard.sme.db import read_db
from smewizard.steps.base import Context, ServerFacts

PSEUDONYM = "dmarc-feedback"
ADMIN_MAILDIR = "/home/e-smith/Maildir"  # admin's home on SME is /home/e-smith
USERS_HOME = "/home/e-smith/files/users"
NONE_TOO_LONG_DAYS = 60
P3, P10 = "Part 3", "Part 10"


@dataclass(frozen=True)
class DomainDmarc:
    domain: str
    discovery: dm.Discovery
    parsed: dm.ParseResult | None
    mx: Lookup | None
    external: tuple[dm.ExternalReporting, ...] = ()
    missing_mailboxes: tuple[str, ...] = ()  # local parts of rua addresses SME does not deliver


@dataclass(frozen=True)
class DmarcFacts:
    domains: tuple[DomainDmarc, ...]
    helo_name: str | None
    pseudonym_target: str | None
    maildir: str | None
    ingest: Ingest
    summary: Summary
    ramp_state: rampmod.RampState
    settings: rampmod.RampSettings
    now: datetime
    own_ips: tuple[str, ...] = ()
    local_parts: frozenset[str] = field(default_factory=frozenset)
    verdicts: dict[str, rampmod.RampVerdict] = field(default_factory=dict)  # filled by probe

    def domain(self, name: str) -> DomainDmarc | None:
        return next((d for d in self.domains if d.domain == name), None)


def helo_name(server: ServerFacts) -> str | None:
    cfg = server.config
    return (cfg.qpsmtpd.get("HeloHost") or cfg.smtpd.get("HeloHost") or cfg.fqdn or "").lower() or None


def maildir_of(account: str | None) -> str | None:
    if not account:
        return None
    return ADMIN_MAILDIR if account == "admin" else f"{USERS_HOME}/{account}/Maildir"


def mailbox_account(config, local_part: str, hops: int = 5) -> str | None:
    """The SME account whose Maildir receives mail for `local_part`, following pseudonyms (a
    few hops at most: a loop of pseudonyms delivers nowhere)."""
    local = local_part.lower()
    if hops <= 0:
        return None
    if local in ("admin", "postmaster", "root", "mailer-daemon"):
        return "admin"
    rec = config.accounts.get(local)
    if rec is None:
        return None
    if rec.type == "pseudonym":
        target = rec.props.get("Account")
        return mailbox_account(config, target, hops - 1) if target else None
    return local if rec.type == "user" else None


def report_maildirs(server: ServerFacts, domains) -> list[str]:
    """Maildirs of the rua addresses on hosted domains, dmarc-feedback's first."""
    accounts = [server.config.pseudonym_target(PSEUDONYM)]
    hosted = set(server.config.hosted_domains)
    for d in domains:
        record = d.parsed.record if d.parsed else None
        for uri in record.rua if record else ():
            if uri.host in hosted and uri.local_part:
                accounts.append(mailbox_account(server.config, uri.local_part))
    out: list[str] = []
    for account in accounts:
        path = maildir_of(account)
        if path and path not in out:
            out.append(path)
    return out


def _ingest_maildirs(host, maildirs: list[str]) -> Ingest:
    results = [ingest_host_maildir(host, m) for m in maildirs]
    if len(results) == 1:
        return results[0]
    seen: dict = {}
    duplicates = 0
    for result in results:
        for report in result.reports:
            if report.key in seen:
                duplicates += 1
            else:
                seen[report.key] = report
    return Ingest(
        tuple(seen.values()),
        tuple(p for r in results for p in r.problems),
        duplicates + sum(r.duplicates for r in results),
        sum(r.inputs for r in results),
        sum(r.skipped_messages for r in results),
    )


class DmarcStep:
    key = "dmarc"
    title = "DMARC"
    parts = (P3, P10)

    def __init__(self, settings: rampmod.RampSettings | None = None, enrich_limit: int = 30):
        self.settings = settings or rampmod.RampSettings()
        self.enrich_limit = enrich_limit

    async def probe(self, ctx: Context, server: ServerFacts) -> DmarcFacts:
        accounts = server.config.accounts
        local_parts = frozenset(k.lower() for k in accounts.records) | {"admin", "postmaster"}
        domains = await asyncio.gather(*(self._probe_domain(ctx, d, server, local_parts) for d in server.domains))
        target = server.config.pseudonym_target(PSEUDONYM)
        maildirs = report_maildirs(server, domains)
        maildir = maildirs[0] if maildirs else None
        ingest = await ctx.io(_ingest_maildirs, ctx.host, maildirs)
        summary = summarize(ingest.reports, server.config.hosted_domains)
        if summary.domains:
            summary = await enrich(summary, ctx.dns, limit=self.enrich_limit)
        state = await ctx.io(rampmod.read_state, ctx.host)
        own = tuple(p.address for p in server.public_ips) + tuple(server.relay_ips)
        facts = DmarcFacts(tuple(domains), helo_name(server), target, maildir, ingest, summary, state,
                           state.settings or self.settings, ctx.clock(), own, local_parts)
        verdicts = {d.domain: v for d in facts.domains if (v := verdict_for(facts, d)) is not None}
        return replace(facts, verdicts=verdicts)

    async def _probe_domain(self, ctx: Context, domain: str, server: ServerFacts, local_parts) -> DomainDmarc:
        discovery, mx = await asyncio.gather(dm.discover(domain, ctx.dns.txt), ctx.dns.mx(domain))
        parsed = dm.parse_record(discovery.record_text) if discovery.record_text else None
        external: list[dm.ExternalReporting] = []
        missing: list[str] = []
        if parsed and parsed.record:
            org = discovery.organizational_domain or domain
            for uri in dm.external_report_hosts(domain, parsed.record, org):
                name = dm.authorization_name(domain, uri.host or "")
                lookup = await ctx.dns.txt(name)
                values = tuple(v for v in lookup.values if dm.is_dmarc_record(v))
                authorized = None if lookup.failed else bool(values)
                external.append(dm.ExternalReporting(uri, uri.host or "", name, authorized, lookup.describe() if lookup.failed else "", values))
            hosted = set(server.config.hosted_domains)
            for uri in parsed.record.rua:
                if uri.host in hosted and (uri.local_part or "").lower() not in local_parts:
                    missing.append((uri.local_part or "").lower())
        return DomainDmarc(domain, discovery, parsed, mx, tuple(external), tuple(missing))

    def assess(self, facts: DmarcFacts) -> Assessment:
        findings: list[Finding] = []
        actions: list = []
        records: list[Record] = []
        for d in facts.domains:
            f, a, r = assess_domain(d, facts)
            findings += f
            actions += a
            records += r
        findings += _report_findings(facts)
        unique: list = []
        for action in actions:
            if action not in unique:
                unique.append(action)
        actions = sorted(unique, key=lambda a: not isinstance(a, CreatePseudonym | SignalEvent))
        return Assessment("dmarc", tuple(findings), tuple(actions), tuple(records))


@dataclass(frozen=True)
class CreatePseudonym(Action):
    """`db accounts set NAME pseudonym Account TARGET`; refuses to replace an existing record
    (`set` would drop its properties)."""

    name: str = PSEUDONYM
    account: str = "admin"
    step: str = "dmarc"
    domain: str | None = None

    def __post_init__(self) -> None:
        validate.user_name(self.name)
        validate.user_name(self.account)

    def summary(self) -> str:
        return f"Create the pseudonym {self.name} delivering to {self.account} (receives DMARC aggregate reports)"

    def commands(self) -> list[list[str]]:
        return [["db", "accounts", "set", self.name, "pseudonym", "Account", self.account]]

    def current(self, host) -> str | None:
        rec = read_db(host, "accounts").get(self.name)
        return f"{rec.type} {dict(rec.props)}" if rec else None

    def target_value(self) -> str | None:
        return f"pseudonym Account={self.account}"

    def execute(self, host) -> str:
        if read_db(host, "accounts").get(self.name) is not None:
            raise ActionError(f"accounts db already has {self.name!r}; not replacing it")
        return run_checked(host, self.commands()[0])


def pseudonym_actions() -> list:
    """`db accounts set dmarc-feedback pseudonym Account admin` then `signal-event
    pseudonym-create dmarc-feedback` (sme-facts.md)."""
    return [CreatePseudonym(), SignalEvent("pseudonym-create", (PSEUDONYM,), step="dmarc")]


def _finding(code, status, message, explanation="", part=P3, domain=None) -> Finding:
    return Finding(code, status, message, explanation, part, domain)


def proposed_record(domain: str, spec: dm.RecordSpec, note: str) -> Record:
    return Record(dm.record_name(domain), "TXT", dm.build_record(spec), domain=domain, note=note)


WHY_RELAXED = (
    "We always propose relaxed alignment (adkim=r; aspf=r). Relaxed means the domain that passed "
    "SPF or DKIM only has to share the organisational domain with the From: address, so "
    "mail.example.com counts for example.com; strict demands the very same name. On SME the "
    "HELO/MX name is usually a subdomain (mail.example.com), and bounces are checked against "
    "that name, so strict SPF alignment fails them (guide Part 3). The sample record that "
    "qpsmtpd-dns prints uses adkim=s and pct=100: we differ because strict buys nothing for "
    "an SME server that signs with d=<domain>, and RFC 9989 removed pct (100 was its default)."
)
WHY_T_FLAG = (
    "DMARC t=y means policy testing: receivers apply one step less (reject as quarantine, "
    "quarantine as none) while reporting normally. It is unrelated to DKIM's t=y in the key "
    "record, which says the *key* is being tested and makes verifiers treat signatures as "
    "absent — leaving DKIM's t=y in place weakens DMARC."
)


WHY_TREE_WALK = (
    "Receivers find a domain's DMARC policy by walking up the DNS tree (RFC 9989): they ask "
    "_dmarc.<domain> first and, when nothing is there, each parent name in turn up to the "
    "top-level domain; the first record found applies. For a subdomain such as "
    "shop.example.net that is usually the record of its organisational domain (_dmarc.example.net): "
    "its sp= policy (or p= when there is no sp=) then covers the subdomain, and the subdomain's "
    "reports go to the addresses in that record."
)
SHOWN_PROBLEMS = 2  # problems named in a one-line message; the explanation lists them all


def parents_asked(disc: dm.Discovery) -> list[str]:
    """The parent names the tree walk asked for `_dmarc` (not the top-level domain)."""
    return [s.target for s in disc.steps[1:] if "." in s.target]


def policy_source(disc: dm.Discovery) -> str | None:
    """Where an inherited policy comes from, in words: "_dmarc.example.net, its organisational
    domain" (or "its parent domain" when the walk stopped below the organisational domain)."""
    if not disc.inherited or disc.found_at is None:
        return None
    kind = ("its organisational domain" if disc.found_at == disc.organizational_domain
            else "its parent domain")
    return f"_dmarc.{disc.found_at}, {kind}"


def walk_summary(disc: dm.Discovery) -> str:
    """The names asked, in order: "_dmarc.shop.example.net, then _dmarc.example.net"."""
    asked = [disc.domain, *parents_asked(disc)]
    return ", then ".join(f"_dmarc.{name}" for name in asked)


def listed_problems(problems) -> tuple[str, str]:
    """(one line naming the first problems and how many more, every problem for the
    explanation). Problem messages already shorten the values they quote."""
    messages = [p.message for p in problems]
    line = "; ".join(messages[:SHOWN_PROBLEMS])
    if len(messages) > SHOWN_PROBLEMS:
        line += f" (and {len(messages) - SHOWN_PROBLEMS} more)"
    return line, " All of them: " + "; ".join(messages) + "." if len(messages) > SHOWN_PROBLEMS else ""


def record_length_note(text: str) -> str:
    if len(text) <= dm.SHOWN_VALUE_CHARS * 3:
        return ""
    return (f" The published record is {len(text):,} characters long: "
            f"{dm.shorten(text, dm.SHOWN_VALUE_CHARS * 3)}")


def reports_note(facts: DmarcFacts, domain: str) -> str:
    """Why the state panel has no aggregate reports to show for `domain`, in one sentence."""
    unreadable = [p for p in facts.ingest.problems
                  if facts.maildir and p.source.startswith(facts.maildir.rstrip("/") + "/")
                  and p.message.startswith("cannot list")]
    if facts.maildir is None:
        if facts.pseudonym_target is None:
            return (f"No aggregate reports for {domain} yet: there is no {PSEUDONYM} pseudonym "
                    "(or other mailbox on this server) to receive them.")
        return (f"No aggregate reports for {domain} yet: the {PSEUDONYM} pseudonym delivers to "
                "no account.")
    whose = (f"{facts.maildir} (the mailbox {PSEUDONYM} delivers to, account {facts.pseudonym_target})"
             if facts.maildir == maildir_of(facts.pseudonym_target) else facts.maildir)
    if unreadable:
        return (f"Aggregate reports for {domain} could not be read: cannot list {whose}: "
                f"{unreadable[0].message.removeprefix('cannot list the mailbox: ')}.")
    return f"No aggregate reports for {domain} in {whose} yet."


def assess_domain(d: DomainDmarc, facts: DmarcFacts):
    dom = d.domain
    findings: list[Finding] = []
    actions: list = []
    records: list[Record] = []
    disc = d.discovery
    default_spec = dm.RecordSpec(dom, rua=(dm.default_rua(dom),))
    own = disc.own
    if own and own.outcome == "failed" or disc.failed:
        failed = next((s for s in disc.steps if s.outcome == "failed"), own)
        where = f"_dmarc.{failed.target}" if failed else f"_dmarc.{dom}"
        message = f"could not look up {where}: {failed.error if failed else ''}"
        explanation = ("The DNS lookup failed (timeout or server failure), so we cannot tell whether a "
                       "record exists. Nothing is proposed until the lookup succeeds.")
        if own and own.outcome == "none" and failed is not own and failed is not None:
            message = (f"{dom} has no record of its own, and the policy of its parent {failed.target}, "
                       f"which would apply (RFC 9989 tree walk), is unknown: {message}")
            explanation += " " + WHY_TREE_WALK
        findings.append(_finding("DMARC006", Status.UNKNOWN, message, explanation, domain=dom))
        return findings, actions, records
    if own and own.outcome == "multiple":
        findings.append(_finding("DMARC002", Status.FAIL, f"{len(own.dmarc)} DMARC records at _dmarc.{dom}",
                                 "Receivers ignore every record when there is more than one, as if none were "
                                 "published. Delete all but one at your DNS provider.", domain=dom))
        records.append(proposed_record(dom, default_spec, "publish this one record, delete the others"))
        return findings, actions, records
    if disc.record_text is None or (disc.inherited and own and own.outcome != "record"):
        if disc.record_text is None:
            parents = parents_asked(disc)
            message = f"no DMARC record for {dom}"
            walk = ""
            if parents:
                which = "its parent" if len(parents) == 1 else "its parents"
                message += f", nor at {which} {', '.join(f'_dmarc.{p}' for p in parents)} (RFC 9989 tree walk)"
                walk = (f" We asked {walk_summary(disc)}: nothing. {WHY_TREE_WALK} A record at "
                        f"_dmarc.{parents[-1]} would also cover {dom}; we propose one for {dom} itself.")
            findings.append(_finding("DMARC001", Status.FAIL, message,
                                     "Without a record at _dmarc." + dom + " receivers apply no policy and send "
                                     "you no reports, so you cannot see who sends mail in your name. Start with "
                                     "p=none (monitoring) and the rua address below (guide Part 3)." + walk + " "
                                     + WHY_RELAXED, domain=dom))
            records.append(proposed_record(dom, default_spec, "DMARC monitoring record (p=none)"))
            if PSEUDONYM not in facts.local_parts:
                actions += pseudonym_actions()
            return findings, actions, records
        findings.append(_finding("DMARC005", Status.INFO,
                                 f"{dom} has no record of its own; its policy comes from {policy_source(disc)} "
                                 "(RFC 9989 tree walk)",
                                 f"We asked {walk_summary(disc)}. {WHY_TREE_WALK} Publish a record at "
                                 f"_dmarc.{dom} only if {dom} needs a different policy or report address.",
                                 domain=dom))
    parsed = d.parsed
    if parsed is None or parsed.record is None:
        problems, every = listed_problems(parsed.problems if parsed else ())
        findings.append(_finding("DMARC003", Status.FAIL, f"the DMARC record for {dom} is not valid: {problems}",
                                 "Receivers discard a record they cannot parse, as if none were published."
                                 + every + record_length_note(disc.record_text or ""),
                                 domain=dom))
        records.append(proposed_record(dom, default_spec, "a valid replacement"))
        return findings, actions, records
    rec = parsed.record
    fatal = [p for p in rec.problems if p.fatal]
    minor = [p for p in rec.problems if not p.fatal and not p.removed]
    removed = [p for p in rec.problems if p.removed]
    if fatal:
        line, every = listed_problems(fatal)
        findings.append(_finding("DMARC003", Status.FAIL, f"DMARC record errors for {dom}: {line}",
                                 "Receivers may discard the whole record." + every + record_length_note(rec.text),
                                 domain=dom))
    if minor:
        line, every = listed_problems(minor)
        findings.append(_finding("DMARC007", Status.WARN, f"DMARC record for {dom}: {line}",
                                 "These tags are ignored or read with their default." + every
                                 + record_length_note(rec.text), domain=dom))
    if removed:
        findings.append(_finding("DMARC004", Status.WARN, f"{dom} uses tags RFC 9989 removed: " + ", ".join(p.tag for p in removed),
                                 " ".join(p.message for p in removed) + " Older receivers may still read them; "
                                 "the record we propose leaves them out.", domain=dom))
    if rec.testing:
        findings.append(_finding("DMARC016", Status.INFO, f"{dom} publishes DMARC t=y (policy testing)", WHY_T_FLAG, domain=dom))
    findings += _alignment_findings(d, rec, facts)
    findings_rua, act_rua, rec_rua = _reporting(d, rec, facts)
    findings += findings_rua
    actions += act_rua
    records += rec_rua
    if not disc.inherited:
        f, a, r = _ramp(d, rec, facts)
        findings += f
        actions += a
        records += r
    if not any(f.status in (Status.FAIL, Status.WARN) for f in findings if f.domain == dom):
        findings.insert(0, _finding("DMARC031", Status.PASS, f"{dom}: {dm.shorten(rec.text, dm.SHOWN_VALUE_CHARS * 3)}",
                                    domain=dom))
    return findings, actions, records


def _alignment_findings(d: DomainDmarc, rec: dm.DmarcRecord, facts: DmarcFacts) -> list[Finding]:
    dom = d.domain
    names = {n for n in [facts.helo_name] if n}
    if d.mx and d.mx.ok:
        names |= {v.split()[-1] for v in d.mx.values}
    sub = sorted(n for n in names if dm.is_subdomain(n, dom))
    out = []
    if rec.aspf == "s" and sub:
        out.append(_finding("DMARC015", Status.WARN, f"{dom} uses strict SPF alignment (aspf=s) but mail is sent as {', '.join(sub)}",
                            WHY_RELAXED, domain=dom))
    elif rec.adkim == "s" and sub:
        out.append(_finding("DMARC015", Status.INFO, f"{dom} uses strict DKIM alignment (adkim=s); the server name {', '.join(sub)} is a subdomain",
                            "SME signs with d=" + dom + ", which strict alignment accepts; any other sender "
                            "signing with a subdomain would fail. " + WHY_RELAXED, domain=dom))
    return out


def _reporting(d: DomainDmarc, rec: dm.DmarcRecord, facts: DmarcFacts):
    dom = d.domain
    findings: list[Finding] = []
    actions: list = []
    records: list[Record] = []
    if not rec.rua:
        spec = replace(dm.spec_from_record(dom, rec), rua=(dm.default_rua(dom),))
        findings.append(_finding("DMARC011", Status.WARN, f"{dom} asks for no aggregate reports (no rua)",
                                 "Without rua nobody sends you reports, so there is no evidence for ever moving "
                                 "past p=none (guide Parts 3 and 10). Add rua=" + dm.default_rua(dom) + ".",
                                 domain=dom))
        records.append(proposed_record(dom, spec, "same policy, with aggregate reports to dmarc-feedback"))
        if PSEUDONYM not in facts.local_parts:
            actions += pseudonym_actions()
    for ext in d.external:
        if ext.authorized is None:
            findings.append(_finding("DMARC013", Status.UNKNOWN, f"could not check {ext.authorization_name}: {ext.error}",
                                     "The lookup failed; we propose nothing until it succeeds.", domain=dom))
        elif not ext.authorized:
            findings.append(_finding("DMARC012", Status.WARN,
                                     f"reports go to {ext.uri.address}, but {ext.host} does not authorise reports for {dom}",
                                     f"Receivers only send reports to another domain when that domain publishes "
                                     f"TXT \"v=DMARC1\" at {ext.authorization_name} (guide Part 3). Whoever runs "
                                     f"{ext.host} must publish it.", domain=dom))
            records.append(Record(ext.authorization_name, "TXT", dm.AUTHORIZATION_VALUE, domain=dom,
                                  note=f"to publish in the {ext.host} zone (not yours, unless you run it)"))
    for local in d.missing_mailboxes:
        findings.append(_finding("DMARC014", Status.WARN, f"rua address {local}@{dom} does not exist on this server",
                                 "Reports sent there bounce. " + ("The wizard can create the dmarc-feedback pseudonym "
                                 "(delivered to admin)." if local == PSEUDONYM else "Create that account or pseudonym."),
                                 domain=dom))
        if local == PSEUDONYM:
            actions += pseudonym_actions()
    return findings, actions, records


def stage_summary(facts: DmarcFacts, domain: str, since: datetime | None) -> DomainSummary | None:
    """Reports for `domain` since the stage began, with SPF/PTR facts from the probe."""
    if since is None:
        return facts.summary.for_domain(domain)
    fresh = summarize(facts.ingest.reports, [domain], since).for_domain(domain)
    enriched = facts.summary.for_domain(domain)
    if fresh is None or enriched is None:
        return fresh
    known = {s.ip: s for s in enriched.sources}
    return replace(fresh, sources=tuple(
        replace(s, in_spf=known[s.ip].in_spf, reverse_name=known[s.ip].reverse_name) if s.ip in known else s
        for s in fresh.sources))


def verdict_for(facts: DmarcFacts, d: DomainDmarc) -> rampmod.RampVerdict | None:
    rec = d.parsed.record if d.parsed else None
    if rec is None:
        return None
    stage = rampmod.stage_for(rec.effective_policy, rec.testing)
    recorded = facts.ramp_state.get(d.domain)
    since, _ = rampmod.stage_since(stage, recorded, facts.summary.for_domain(d.domain))
    summary = stage_summary(facts, d.domain, since)
    return rampmod.judge(d.domain, stage, facts.now, facts.settings, recorded, summary, facts.own_ips)


def _ramp(d: DomainDmarc, rec: dm.DmarcRecord, facts: DmarcFacts):
    dom = d.domain
    verdict = facts.verdicts.get(dom) or verdict_for(facts, d)
    findings: list[Finding] = []
    actions: list = []
    records: list[Record] = []
    if verdict is None:
        return findings, actions, records
    recorded = facts.ramp_state.get(dom)
    if facts.ramp_state.problem:
        findings.append(_finding("DMARC024", Status.WARN, facts.ramp_state.problem, domain=dom))
    elif not (recorded and recorded.current and recorded.current.stage == verdict.stage):
        findings.append(_finding("DMARC023", Status.INFO,
                                 f"{dom}: {rampmod.STAGE_LABEL[verdict.stage]} is not yet recorded as observed",
                                 f"Applying writes today's date to {rampmod.STATE_PATH} on the server, which "
                                 "starts the day count for this stage (probing never writes).", domain=dom))
        actions.append(rampmod.RecordStageObserved(dom, verdict.stage, facts.now))
    days = f"{verdict.days} days" if verdict.days is not None else "an unknown time"
    base = dm.spec_from_record(dom, rec)
    if verdict.next_stage is None:
        findings.append(_finding("DMARC022", Status.PASS, f"{dom} is at p=reject ({days})",
                                 "Spoofed mail in your name is refused. Keep reading the reports (guide Part 10).",
                                 P10, dom))
    elif verdict.ready:
        policy, testing = rampmod.STAGE_POLICY[verdict.next_stage]
        findings.append(_finding("DMARC020", Status.INFO, f"{dom} is ready for {rampmod.STAGE_LABEL[verdict.next_stage]}",
                                 "; ".join(verdict.reasons) + ". " + WHY_T_FLAG if testing else "; ".join(verdict.reasons),
                                 P10, dom))
        records.append(proposed_record(dom, replace(base, policy=policy, testing=testing),
                                       f"next stage: {rampmod.STAGE_LABEL[verdict.next_stage]}"))
    else:
        status = Status.INFO
        if verdict.stage == "none" and verdict.days is not None and verdict.days > NONE_TOO_LONG_DAYS:
            status = Status.WARN
        code = "DMARC010" if status is Status.WARN else "DMARC021"
        msg = (f"{dom} has been at p=none for {verdict.days} days" if code == "DMARC010"
               else f"{dom}: not yet ready for {rampmod.STAGE_LABEL[verdict.next_stage]}")
        findings.append(_finding(code, status, msg, "; ".join(verdict.reasons) + ". Fix the sources listed, "
                                 "then let reports show the improvement (guide Part 10).", P10, dom))
    if verdict.previous_stage:
        policy, testing = rampmod.STAGE_POLICY[verdict.previous_stage]
        back = proposed_record(dom, replace(base, policy=policy, testing=testing),
                               f"only if legitimate mail is lost: step back to "
                               f"{rampmod.STAGE_LABEL[verdict.previous_stage]}")
        records.append(replace(back, optional=True))
    return findings, actions, records


def _report_findings(facts: DmarcFacts) -> list[Finding]:
    out = []
    ing = facts.ingest
    if ing.problems:
        shown = "; ".join(f"{p.source.rsplit('/', 1)[-1]}: {p.message}" for p in ing.problems[:3])
        out.append(_finding("DMARC030", Status.INFO, f"{len(ing.problems)} report file(s) could not be read", shown, P10))
    for domain, count in facts.summary.foreign:
        out.append(_finding("DMARC032", Status.INFO, f"{count} report(s) for {domain}, which this server does not host",
                            "They were not counted. Someone lists this mailbox in the rua of their domain.", P10))
    return out


STEP = DmarcStep()
