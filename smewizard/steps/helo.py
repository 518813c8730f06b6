"""HELO & PTR step (guide Part 4): the server's public IPs, their PTR, the PTR name's A/AAAA,
and the HeloHost the server announces must all agree on the server's FQDN."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

import dns.reversename

from smewizard.actions.base import Action, SetProp, SignalEvent
from smewizard.dns import Lookup
from smewizard.host.base import Host, HostError, NotFound
from smewizard.mail.fcrdns import (
    Agreement,
    Seen,
    agreement_diagram,
    generic_ptr,
    hosted_domain_of,
    provider_request,
    same_name,
)
from smewizard.model import Assessment, Finding, Record, Status
from smewizard.steps.base import Context, PublicIp, ServerFacts

PART = "Part 4"
KEY = "helo"
# qmail-remote announces control/helohost, or control/me when there is none (qmail's own rule);
# whichever db key SME v10's template reads, this file is what receivers see in HELO.
QMAIL_HELOHOST = "/var/qmail/control/helohost"
QMAIL_ME = "/var/qmail/control/me"


@dataclass(frozen=True)
class IpFacts:
    """Everything looked up for one public address."""

    address: str
    source: str
    ptr: Lookup
    forward: tuple[Lookup, ...]  # A and AAAA of the first PTR name; empty without one

    @property
    def ptr_seen(self) -> Seen:
        return _seen(self.ptr)

    @property
    def ptr_name(self) -> str | None:
        return self.ptr.values[0] if self.ptr.ok and self.ptr.values else None

    @property
    def forward_seen(self) -> Seen:
        if not self.forward:
            return Seen.ABSENT
        if any(lk.ok for lk in self.forward):
            return Seen.FOUND
        if any(lk.failed for lk in self.forward):
            return Seen.UNKNOWN
        return Seen.ABSENT

    @property
    def forward_ips(self) -> tuple[str, ...]:
        return tuple(_norm_ip(v) for lk in self.forward for v in lk.values)


@dataclass(frozen=True)
class Announced:
    """The name qmail-remote announces (None if unreadable), the file it came from, or why not."""

    name: str | None
    source: str
    error: str | None = None


def read_announced(host: Host) -> Announced:
    for path in (QMAIL_HELOHOST, QMAIL_ME):
        try:
            text = host.read_text(path, limit=4096)
        except NotFound:
            continue
        except HostError as exc:
            return Announced(None, path, str(exc))
        name = _clean(text.splitlines()[0] if text.strip() else "")
        if name:
            return Announced(name, path)
    return Announced(None, QMAIL_HELOHOST, "neither control/helohost nor control/me names a host")


@dataclass(frozen=True)
class HeloFacts:
    fqdn: str | None
    hosted_domains: tuple[str, ...]
    qpsmtpd_helo: str | None  # configuration qpsmtpd HeloHost (the guide's key)
    smtpd_helo: str | None  # configuration smtpd HeloHost (the key SME 7/8 templates read)
    qpsmtpd_exists: bool
    ips: tuple[IpFacts, ...]
    ip_lookup: Lookup | None  # the FQDN A lookup, when public IPs came from it
    fqdn_forward: tuple[Lookup, ...]  # A and AAAA of the FQDN
    relay_host: str | None
    announced: Announced | None = None  # what qmail-remote says in HELO, from its control files

    @property
    def fqdn_ips(self) -> frozenset[str]:
        """The addresses the FQDN's A/AAAA records give (normalised)."""
        return frozenset(_norm_ip(v) for lk in self.fqdn_forward for v in lk.values)

    def agreements(self) -> list[Agreement]:
        return [
            Agreement(
                ip=ip.address,
                ptr=ip.ptr_seen,
                ptr_name=ip.ptr_name,
                forward=ip.forward_seen,
                forward_ips=ip.forward_ips,
                helo=self.qpsmtpd_helo,
                fqdn=self.fqdn,
            )
            for ip in self.ips
        ]

    def diagram(self) -> str:
        return "\n\n".join(agreement_diagram(a) for a in self.agreements()) or (
            "Public IP unknown: pass --public-ip, or publish an A record for the FQDN."
        )

    def provider_request_items(self) -> list[tuple[str, str]]:
        """(IP, ready-to-send text for the hosting provider), one per IP whose PTR is provably
        wrong (never for a PTR lookup that failed)."""
        fqdn = self.fqdn
        if not fqdn:
            return []
        announced = self.announced.name if self.announced and self.announced.name else self.qpsmtpd_helo
        helo_ok = same_name(announced, fqdn)
        return [
            (ip.address, provider_request(ip.address, fqdn, ip.ptr_name, helo_ok=helo_ok,
                                          forward_ok=ip.address in self.fqdn_ips))
            for ip in self.ips
            if ip.ptr_seen is not Seen.UNKNOWN and not same_name(ip.ptr_name, fqdn)
        ]

    def provider_requests(self) -> list[str]:
        return [text for _, text in self.provider_request_items()]


def _seen(lookup: Lookup) -> Seen:
    if lookup.ok and lookup.values:
        return Seen.FOUND
    if lookup.failed:
        return Seen.UNKNOWN
    return Seen.ABSENT


def _norm_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


class HeloStep:
    key = KEY
    title = "HELO & PTR"
    parts = (PART,)

    async def probe(self, ctx: Context, server: ServerFacts) -> HeloFacts:
        config = server.config
        fqdn = config.fqdn
        fqdn_forward: tuple[Lookup, ...] = ()
        if fqdn:
            fqdn_forward = tuple(await asyncio.gather(ctx.dns.a(fqdn), ctx.dns.aaaa(fqdn)))
        public = list(server.public_ips)
        if not ctx.public_ips and fqdn_forward:
            # IPv6: SME's db does not know it; the FQDN's AAAA records are the best source.
            known = {p.address for p in public}
            for addr in fqdn_forward[1].values:
                if _norm_ip(addr) not in known:
                    public.append(PublicIp(_norm_ip(addr), f"AAAA record of {fqdn}"))
        ips = tuple(await asyncio.gather(*(self._probe_ip(ctx, p) for p in public)))
        announced = await ctx.io(read_announced, ctx.host)
        return HeloFacts(
            fqdn=fqdn,
            hosted_domains=tuple(server.domains) or tuple(config.hosted_domains),
            qpsmtpd_helo=_clean(config.qpsmtpd.get("HeloHost")),
            smtpd_helo=_clean(config.smtpd.get("HeloHost")),
            qpsmtpd_exists=config.configuration.get("qpsmtpd") is not None,
            ips=ips,
            ip_lookup=server.public_ip_lookup,
            fqdn_forward=fqdn_forward,
            relay_host=server.relay_host,
            announced=announced,
        )

    async def _probe_ip(self, ctx: Context, public: PublicIp) -> IpFacts:
        ptr = await ctx.dns.ptr(public.address)
        forward: tuple[Lookup, ...] = ()
        if ptr.ok and ptr.values:
            name = ptr.values[0]
            forward = tuple(await asyncio.gather(ctx.dns.a(name), ctx.dns.aaaa(name)))
        return IpFacts(public.address, public.source, ptr, forward)

    def assess(self, facts: HeloFacts) -> Assessment:
        findings: list[Finding] = []
        records: list[Record] = []
        findings.extend(_public_ip_findings(facts))
        for ip in facts.ips:
            ip_findings, record = _ip_findings(facts, ip)
            findings.extend(ip_findings)
            if record:
                records.append(record)
        findings.extend(_fqdn_forward_findings(facts))
        helo_findings, actions = _helo_findings(facts)
        findings.extend(helo_findings)
        if facts.relay_host:
            findings.append(
                Finding(
                    "HELO016",
                    Status.INFO,
                    f"Outbound mail is relayed through {facts.relay_host}",
                    "Receivers see the relay's IP and its PTR, not this server's, for mail the "
                    "relay delivers. Keep this server's PTR and HeloHost right anyway: the relay "
                    "may check them, and direct delivery may be used again later (guide Part 4).",
                    PART,
                )
            )
        if facts.ips and all(_ip_agrees(facts, ip) for ip in facts.ips) and not actions:
            findings.append(
                Finding(
                    "HELO015",
                    Status.PASS,
                    f"PTR, A/AAAA and HELO all agree on {facts.fqdn}",
                    "Forward-confirmed reverse DNS holds and the server announces the same name "
                    "(guide Part 4).",
                    PART,
                )
            )
        return Assessment(KEY, tuple(findings), tuple(actions), tuple(records))


def _clean(value: str | None) -> str | None:
    value = (value or "").strip().rstrip(".").lower()
    return value or None


def _ip_agrees(facts: HeloFacts, ip: IpFacts) -> bool:
    announced = facts.announced.name if facts.announced else None
    return (
        same_name(ip.ptr_name, facts.fqdn)
        and ip.address in ip.forward_ips
        and same_name(facts.qpsmtpd_helo, facts.fqdn)
        and (announced is None or same_name(announced, facts.fqdn))
    )


def _public_ip_findings(facts: HeloFacts) -> list[Finding]:
    if facts.ips:
        sources = ", ".join(f"{ip.address} ({ip.source})" for ip in facts.ips)
        return [Finding("HELO001", Status.INFO, f"Public IP: {sources}", "", PART)]
    if facts.ip_lookup is not None and facts.ip_lookup.failed:
        return [
            Finding(
                "HELO002",
                Status.UNKNOWN,
                f"Public IP unknown: the A lookup of {facts.fqdn} failed ({facts.ip_lookup.describe()})",
                "Without the server's public address its PTR cannot be checked. Retry, or give "
                "the address with --public-ip.",
                PART,
            )
        ]
    return [
        Finding(
            "HELO002",
            Status.UNKNOWN,
            "Public IP unknown: SME has no ExternalIP and the FQDN has no A record",
            "Give the server's public address with --public-ip so its PTR can be checked "
            "(guide Part 4).",
            PART,
        )
    ]


def _reverse_name(ip: str) -> str:
    return dns.reversename.from_address(ip).to_text(omit_final_dot=True)


def _ptr_record(facts: HeloFacts, ip: IpFacts) -> Record | None:
    if not facts.fqdn:
        return None
    return Record(
        name=_reverse_name(ip.address),
        rtype="PTR",
        value=facts.fqdn,
        note="Set by your hosting provider or ISP, not in your own DNS: send them the request "
        "text shown with this step.",
    )


def _ip_findings(facts: HeloFacts, ip: IpFacts) -> tuple[list[Finding], Record | None]:
    addr, fqdn = ip.address, facts.fqdn
    if ip.ptr_seen is Seen.UNKNOWN:
        return [
            Finding(
                "HELO004",
                Status.UNKNOWN,
                f"PTR of {addr} could not be looked up ({ip.ptr.describe()})",
                "The reverse lookup failed, so nothing is known about the PTR; nothing is "
                "proposed. Re-verify later.",
                PART,
            )
        ], None
    request_hint = (
        "PTR records live in the address owner's reverse zone: ask your hosting provider or "
        f"ISP to set the PTR of {addr} to {fqdn or 'the server FQDN'} (the request text is "
        "ready to copy with this step). With several hosted domains keep it on the server's own "
        "host name and ask them to pin it (guide Part 4)."
    )
    if ip.ptr_seen is Seen.ABSENT:
        return [
            Finding(
                "HELO003",
                Status.FAIL,
                f"{addr} has no PTR record",
                "Many receivers reject or score mail from an address without reverse DNS. "
                + request_hint,
                PART,
            )
        ], _ptr_record(facts, ip)
    name = ip.ptr_name or ""
    findings: list[Finding] = []
    wrong_name = not same_name(name, fqdn)
    if wrong_name:
        hosted = hosted_domain_of(name, facts.hosted_domains)
        verdict = generic_ptr(name, addr)
        if hosted and not same_name(name, fqdn):
            findings.append(
                Finding(
                    "HELO006",
                    Status.WARN,
                    f"PTR of {addr} is {name}, a name in hosted domain {hosted}, not the server FQDN",
                    "On a server hosting several domains the PTR should name the server itself "
                    f"({fqdn or 'SystemName.DomainName'}), not one of the domains it hosts. "
                    + request_hint,
                    PART,
                )
            )
        elif verdict.generic:
            findings.append(
                Finding(
                    "HELO005",
                    Status.WARN,
                    f"PTR of {addr} is a generic provider name: {name}",
                    "It looks generated by the provider (" + "; ".join(verdict.reasons) + "). "
                    "Receivers treat such names as dial-up or unmanaged hosts. " + request_hint,
                    PART,
                )
            )
        else:
            findings.append(
                Finding(
                    "HELO007",
                    Status.WARN,
                    f"PTR of {addr} is {name}, not the server FQDN {fqdn or '(unknown)'}",
                    "The PTR, the FQDN's A record and the HELO name should be the same name. "
                    + request_hint,
                    PART,
                )
            )
    findings.append(_forward_finding(ip, name))
    return findings, _ptr_record(facts, ip) if wrong_name else None


def _forward_finding(ip: IpFacts, name: str) -> Finding:
    addr = ip.address
    seen = ip.forward_seen
    if seen is Seen.UNKNOWN and addr not in ip.forward_ips:
        return Finding(
            "HELO009",
            Status.UNKNOWN,
            f"Could not look up the address of PTR name {name}",
            "The A/AAAA lookup failed; whether the PTR is forward-confirmed is unknown.",
            PART,
        )
    if addr in ip.forward_ips:
        return Finding(
            "HELO008",
            Status.PASS,
            f"{addr} → {name} → {addr}: forward-confirmed",
            "The PTR name resolves back to the same address (guide Part 4).",
            PART,
        )
    found = ", ".join(ip.forward_ips) or "no address"
    return Finding(
        "HELO010",
        Status.FAIL,
        f"PTR name {name} does not resolve back to {addr} ({found})",
        "Receivers doing forward-confirmed reverse DNS look up the A/AAAA of the PTR name and "
        "expect the connecting address. Publish an A (or AAAA) record for the name pointing to "
        f"{addr}, or have the provider change the PTR to a name that has one (guide Part 4).",
        PART,
    )


def _fqdn_forward_findings(facts: HeloFacts) -> list[Finding]:
    if not facts.fqdn or not facts.fqdn_forward or not facts.ips:
        return []
    values = facts.fqdn_ips
    failed = any(lk.failed for lk in facts.fqdn_forward)
    out: list[Finding] = []
    for ip in facts.ips:
        if ip.address in values:
            continue
        if failed:
            out.append(
                Finding(
                    "HELO012",
                    Status.UNKNOWN,
                    f"Could not check that {facts.fqdn} resolves to {ip.address}",
                    "The A/AAAA lookup of the FQDN failed.",
                    PART,
                )
            )
        else:
            out.append(
                Finding(
                    "HELO011",
                    Status.FAIL,
                    f"{facts.fqdn} has no A/AAAA record pointing to {ip.address}",
                    "The server FQDN must resolve to the public address, in your own DNS zone "
                    f"(guide Part 4, Part 10 checklist). Publish {facts.fqdn} "
                    f"{'A' if ':' not in ip.address else 'AAAA'} {ip.address}.",
                    PART,
                )
            )
    return out


def helo_actions(fqdn: str) -> list[Action]:
    """Set the guide's HeloHost to the FQDN and regenerate the configuration."""
    return [
        SetProp("configuration", "qpsmtpd", "HeloHost", fqdn, step=KEY, record_type="service",
                why="announce the server FQDN in HELO/EHLO (guide Part 4)"),
        SignalEvent("email-update", step=KEY),
    ]


def _helo_findings(facts: HeloFacts) -> tuple[list[Finding], list[Action]]:
    fqdn, helo = facts.fqdn, facts.qpsmtpd_helo
    findings: list[Finding] = []
    actions: list[Action] = []
    if not fqdn:
        findings.append(
            Finding(
                "HELO017",
                Status.UNKNOWN,
                "Server FQDN unknown (SystemName or DomainName missing in the configuration db)",
                "The wizard cannot tell what the HELO name and PTR should be.",
                PART,
            )
        )
        return findings, actions
    if helo is None:
        findings.append(
            Finding(
                "HELO013",
                Status.WARN,
                "qpsmtpd HeloHost is not set",
                f"Set it to {fqdn} so the server announces the name its PTR shows (guide Part 4). "
                "Unset, SME falls back to a default name (the bare domain in SME 7/8 templates), "
                "which rarely matches the PTR.",
                PART,
            )
        )
        actions = helo_actions(fqdn)
    elif not same_name(helo, fqdn):
        findings.append(
            Finding(
                "HELO014",
                Status.WARN,
                f"qpsmtpd HeloHost is {helo}, not the server FQDN {fqdn}",
                "The HELO name, the PTR and the FQDN's A record should be one name "
                "(guide Part 4).",
                PART,
            )
        )
        actions = helo_actions(fqdn)
    else:
        findings.append(
            Finding("HELO018", Status.PASS, f"qpsmtpd HeloHost is {fqdn}", "", PART)
        )
    if facts.smtpd_helo and not same_name(facts.smtpd_helo, fqdn):
        findings.append(
            Finding(
                "HELO019",
                Status.INFO,
                f"smtpd HeloHost is {facts.smtpd_helo} (SME 7/8 key), qpsmtpd HeloHost is "
                f"{helo or 'unset'}",
                "SME 7/8 templates read the HELO name from `smtpd HeloHost`; the guide sets "
                "`qpsmtpd HeloHost` for v10. Which key v10's templates read is not confirmed "
                "(docs/sme-v10.md); check the HELO in an outgoing message's Received header.",
                PART,
            )
        )
    findings.extend(_announced_findings(facts, pending_fix=bool(actions)))
    return findings, actions


def _announced_findings(facts: HeloFacts, pending_fix: bool) -> list[Finding]:
    """What qmail-remote really announces, read from the file SME's template generates."""
    announced, fqdn = facts.announced, facts.fqdn
    if announced is None or not fqdn:
        return []
    if announced.name is None:
        return [Finding("HELO020", Status.UNKNOWN, f"Cannot tell what the server announces in HELO: "
                        f"{announced.error}", "qmail-remote takes its HELO name from "
                        f"{QMAIL_HELOHOST} (or {QMAIL_ME}); without it the wizard cannot confirm "
                        "what receivers see.", PART)]
    if same_name(announced.name, fqdn):
        return [Finding("HELO020", Status.PASS, f"qmail announces {fqdn} in HELO ({announced.source})",
                        "", PART)]
    if pending_fix:
        why = ("The HeloHost change proposed above, with its email-update, regenerates this file; "
               "the re-check reads it again.")
    else:
        why = ("qpsmtpd HeloHost is already the FQDN, yet the generated file says otherwise: either "
               "email-update has not run since HeloHost was set (run `signal-event email-update`), "
               "or this SME's template reads another key — SME 7/8 templates read `smtpd HeloHost` "
               "(docs/sme-v10.md A2): `db configuration setprop smtpd HeloHost " + fqdn + "` and "
               "email-update, then re-check.")
    return [Finding("HELO021", Status.FAIL, f"qmail announces {announced.name} in HELO, not {fqdn} "
                    f"({announced.source})", "Receivers compare the HELO name with the PTR "
                    "(guide Part 4). " + why, PART)]


STEP = HeloStep()
