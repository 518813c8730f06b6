"""SPF (RFC 7208): parse a record, count its DNS lookups, evaluate it, propose a corrected one.

Parsing, counting and proposing are pure. Evaluation uses pyspf for the real RFC 7208
semantics; its DNS questions go to the resolver the caller hands in (our `--nameserver`
configuration), so tests and the demo are answered by the embedded DNS server over the wire.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import dns.exception
import dns.resolver
import spf as pyspf

MAX_DNS_LOOKUPS = 10  # RFC 7208 4.6.4
MAX_VOID_LOOKUPS = 2  # RFC 7208 4.6.4

QUALIFIERS = "+-~?"
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")


class SpfSyntaxError(ValueError):
    """The record breaks RFC 7208 syntax; receivers treat it as a permanent error."""

    def __init__(self, message: str, term: str | None = None):
        super().__init__(message)
        self.term = term


# ------------------------------------------------------------------------------- parsing
@dataclass(frozen=True)
class Term:
    """One space-separated term: a mechanism ("~all", "ip4:192.0.2.0/24") or a modifier
    ("redirect=_spf.example.net")."""

    text: str
    name: str  # lower case: "include", "ip4", "redirect", or an unknown modifier's name
    qualifier: str = ""  # "+", "-", "~", "?" for mechanisms; "" for modifiers
    value: str = ""  # domain-spec, IP network or modifier value ("" when absent)
    cidr4: int | None = None
    cidr6: int | None = None

    @property
    def is_modifier(self) -> bool:
        return self.qualifier == ""

    @property
    def counts_lookup(self) -> bool:
        """Counts towards the limit of 10 DNS lookups (RFC 7208 4.6.4)."""
        return self.name in LOOKUP_MECHANISMS or self.name == "redirect"

    def canonical(self) -> str:
        """The term as we write it: explicit "+" dropped, name lower case."""
        if self.is_modifier:
            return f"{self.name}={self.value}"
        qualifier = "" if self.qualifier == "+" else self.qualifier
        text = qualifier + self.name
        if self.value:
            text += ":" + self.value
        if self.name == "ip6" and self.cidr6 is not None:
            return text + f"/{self.cidr6}"
        if self.cidr4 is not None:
            text += f"/{self.cidr4}"
        if self.cidr6 is not None:
            text += f"//{self.cidr6}"
        return text


@dataclass(frozen=True)
class ParsedSpf:
    record: str
    terms: tuple[Term, ...]

    @property
    def mechanisms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.is_modifier)

    @property
    def modifiers(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.is_modifier)

    @property
    def all_term(self) -> Term | None:
        return next((t for t in self.mechanisms if t.name == "all"), None)

    @property
    def all_qualifier(self) -> str | None:
        """"+", "-", "~", "?" of the first `all`, None without one."""
        term = self.all_term
        return term.qualifier if term else None

    @property
    def redirect(self) -> str | None:
        return next((t.value for t in self.modifiers if t.name == "redirect"), None)

    @property
    def exp(self) -> str | None:
        return next((t.value for t in self.modifiers if t.name == "exp"), None)

    @property
    def uses_ptr(self) -> bool:
        return any(t.name == "ptr" for t in self.mechanisms)

    @property
    def redirect_ignored(self) -> bool:
        """RFC 7208 6.1: redirect= has no effect when the record has an `all` mechanism."""
        return self.redirect is not None and self.all_term is not None

    @property
    def duplicates(self) -> tuple[str, ...]:
        """Mechanisms written more than once (same mechanism and argument)."""
        seen: set[str] = set()
        dups: list[str] = []
        for term in self.mechanisms:
            key = term.canonical().lstrip("+-~?")
            if key in seen and key not in dups:
                dups.append(key)
            seen.add(key)
        return tuple(dups)

    @property
    def local_lookups(self) -> int:
        """Lookup-counting terms in this record alone (includes not followed)."""
        return sum(1 for t in self.terms if t.counts_lookup)


_VERSION = re.compile(r"^v=spf1(?: |$)", re.IGNORECASE)
_MODIFIER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_MACRO = re.compile(r"%(?:\{[slodiphcrtv][0-9]*r?[.\-+,/_=]*\}|%|_|-)", re.IGNORECASE)
_TOPLABEL = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_CIDR = re.compile(r"^(?P<base>.*?)(?:/(?P<c4>0|[1-9][0-9]?))?(?://(?P<c6>0|[1-9][0-9]{0,2}))?$")


def is_spf_record(txt: str) -> bool:
    """A TXT string that claims to be SPF version 1 (RFC 7208 4.5)."""
    return bool(_VERSION.match(txt))


def parse_spf(record: str) -> ParsedSpf:
    """Parse a whole "v=spf1 …" record; raises SpfSyntaxError with the offending term."""
    if not isinstance(record, str):
        raise SpfSyntaxError("an SPF record must be text")
    if not is_spf_record(record):
        raise SpfSyntaxError('an SPF record must start with "v=spf1" followed by a space or end')
    if not record.isascii():
        raise SpfSyntaxError("the record contains non-ASCII characters")
    if any(c in record for c in "\t\r\n"):
        raise SpfSyntaxError("terms must be separated by spaces only (tab or newline found)")
    terms = tuple(parse_term(text) for text in record[6:].split(" ") if text)
    for name in ("redirect", "exp"):
        if sum(1 for t in terms if t.name == name and t.is_modifier) > 1:
            raise SpfSyntaxError(f"the {name}= modifier appears more than once", name)
    return ParsedSpf(record=record, terms=terms)


def salvage_spf(records: Iterable[str]) -> ParsedSpf | None:
    """The valid terms of one or more (possibly broken) records, in order, for building a
    proposal; None when nothing valid is left."""
    terms: list[Term] = []
    for record in records:
        body = record[6:] if is_spf_record(record) else record
        for text in body.split():
            try:
                term = parse_term(text)
            except SpfSyntaxError:
                continue
            if term.is_modifier and term.name in ("redirect", "exp") and any(
                t.name == term.name for t in terms
            ):
                continue
            terms.append(term)
    if not terms:
        return None
    return ParsedSpf(record=" ".join(["v=spf1", *(t.text for t in terms)]), terms=tuple(terms))


def parse_term(text: str) -> Term:
    """One term of a record (without the version)."""
    modifier = re.match(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$", text)
    if modifier:
        return _parse_modifier(text, modifier.group(1).lower(), modifier.group(2))
    qualifier = "+"
    body = text
    if body[:1] in QUALIFIERS:
        qualifier, body = body[0], body[1:]
    name, sep, arg = _split_mechanism(body)
    name = name.lower()
    if name not in MECHANISMS:
        raise SpfSyntaxError(f"unknown mechanism {text!r}", text)
    if name == "all":
        if sep or arg:
            raise SpfSyntaxError(f"{text!r}: 'all' takes no argument", text)
        return Term(text, name, qualifier)
    if name in ("ip4", "ip6"):
        return _parse_ip(text, name, qualifier, sep, arg)
    base, cidr4, cidr6 = _split_cidr(text, arg, allow=name in ("a", "mx"))
    if sep == ":" and not base:
        raise SpfSyntaxError(f"{text!r}: empty domain after ':'", text)
    if sep == "/" and name not in ("a", "mx"):
        raise SpfSyntaxError(f"{text!r}: {name} takes no CIDR length", text)
    if sep == "/" and base:
        raise SpfSyntaxError(f"{text!r}: invalid CIDR length (use /N for IPv4, //N for IPv6)", text)
    if name in ("include", "exists") and not base:
        raise SpfSyntaxError(f"{text!r}: {name} needs a domain, e.g. {name}:_spf.example.net", text)
    if base:
        _check_domain_spec(text, base)
    return Term(text, name, qualifier, base, cidr4, cidr6)


def _parse_modifier(text: str, name: str, value: str) -> Term:
    if not _MODIFIER_NAME.match(name):
        raise SpfSyntaxError(f"{text!r}: invalid modifier name", text)
    if name in ("redirect", "exp"):
        if not value:
            raise SpfSyntaxError(f"{text!r}: {name}= needs a domain", text)
        _check_domain_spec(text, value)
    else:
        _check_macro_string(text, value)
    return Term(text, name, "", value)


def _split_mechanism(body: str) -> tuple[str, str, str]:
    """"ip4:1.2.3.4/24" → ("ip4", ":", "1.2.3.4/24"); "a/24" → ("a", "/", "/24")."""
    for i, ch in enumerate(body):
        if ch == ":":
            return body[:i], ":", body[i + 1 :]
        if ch == "/":
            return body[:i], "/", body[i:]
    return body, "", ""


def _split_cidr(text: str, arg: str, allow: bool) -> tuple[str, int | None, int | None]:
    match = _CIDR.match(arg)
    if not match or not (match.group("c4") or match.group("c6")):
        return arg, None, None
    if not allow:
        raise SpfSyntaxError(f"{text!r}: a CIDR length is only allowed on a, mx, ip4 and ip6", text)
    cidr4 = int(match.group("c4")) if match.group("c4") else None
    cidr6 = int(match.group("c6")) if match.group("c6") else None
    if cidr4 is not None and cidr4 > 32:
        raise SpfSyntaxError(f"{text!r}: IPv4 prefix length must be 0-32", text)
    if cidr6 is not None and cidr6 > 128:
        raise SpfSyntaxError(f"{text!r}: IPv6 prefix length must be 0-128", text)
    return match.group("base"), cidr4, cidr6


def _parse_ip(text: str, name: str, qualifier: str, sep: str, arg: str) -> Term:
    if sep != ":" or not arg:
        raise SpfSyntaxError(f"{text!r}: {name} needs an address, e.g. {name}:"
                             f"{'192.0.2.10' if name == 'ip4' else '2001:db8::10'}", text)
    address, slash, prefix = arg.partition("/")
    limit = 32 if name == "ip4" else 128
    if slash and not re.fullmatch(r"0|[1-9][0-9]{0,2}", prefix):
        raise SpfSyntaxError(f"{text!r}: invalid prefix length", text)
    if prefix and int(prefix) > limit:
        raise SpfSyntaxError(f"{text!r}: prefix length must be 0-{limit}", text)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise SpfSyntaxError(f"{text!r}: {address!r} is not an IP address", text) from None
    if ip.version != (4 if name == "ip4" else 6):
        raise SpfSyntaxError(f"{text!r}: {address!r} is not an IPv{name[-1]} address", text)
    cidr = int(prefix) if prefix else None
    return Term(text, name, qualifier, address, cidr if name == "ip4" else None,
                cidr if name == "ip6" else None)


def _check_macro_string(text: str, value: str) -> None:
    rest = _MACRO.sub("", value)
    if "%" in rest:
        raise SpfSyntaxError(f"{text!r}: invalid macro (a '%' must start %{{…}}, %%, %_ or %-)", text)
    if any(not (0x21 <= ord(c) <= 0x7E) for c in rest):
        raise SpfSyntaxError(f"{text!r}: invalid character", text)


def _check_domain_spec(text: str, spec: str) -> None:
    """RFC 7208 7.1: domain-spec = macro-string domain-end, where domain-end is a
    top label after a dot, or a macro."""
    _check_macro_string(text, spec)
    if re.search(r"%\{[^}]*\}$", spec):
        return
    stripped = spec[:-1] if spec.endswith(".") else spec
    if "." not in stripped or not _TOPLABEL.match(stripped.rsplit(".", 1)[1]):
        raise SpfSyntaxError(f"{text!r}: {spec!r} is not a valid domain", text)
    if any(len(label) > 63 for label in stripped.split(".")) or "" in stripped.split("."):
        raise SpfSyntaxError(f"{text!r}: {spec!r} is not a valid domain", text)


def has_macro(spec: str) -> bool:
    return "%" in spec


# ------------------------------------------------------------------------------- lookup counting
@dataclass(frozen=True)
class SpfFetch:
    """What DNS said about the SPF record of one domain (include/redirect target)."""

    records: tuple[str, ...] = ()  # v=spf1 TXT strings found
    failed: bool = False  # timeout/SERVFAIL: we cannot tell
    absent: bool = False  # NXDOMAIN / no TXT at all (a void lookup)


@dataclass(frozen=True)
class LookupCount:
    """Worst-case DNS-mechanism lookups of a record with its includes followed (what a
    receiver spends on a sender the record does not list)."""

    total: int
    void: int
    by_term: tuple[tuple[str, int], ...]  # top-level term → lookups it costs (incl. nested)
    problems: tuple[str, ...] = ()  # include targets without a usable record, loops
    dead_terms: tuple[str, ...] = ()  # top-level terms whose own target is void or broken
    incomplete: bool = False  # some target could not be fetched: total is a lower bound

    @property
    def too_many(self) -> bool:
        return self.total > MAX_DNS_LOOKUPS

    @property
    def too_many_void(self) -> bool:
        return self.void > MAX_VOID_LOOKUPS


def targets_to_fetch(parsed: ParsedSpf, domain: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Names whose SPF record (include/redirect) and host records (a/mx, for void lookups)
    the count needs. Macro targets depend on the sender and are skipped."""
    spf_names: list[str] = []
    hosts: list[tuple[str, str]] = []
    for term in parsed.terms:
        target = (term.value or domain).rstrip(".").lower()
        if has_macro(term.value):
            continue
        if term.name in ("include", "redirect"):
            spf_names.append(target)
        elif term.name == "a" and not term.is_modifier:
            hosts.append((target, "A"))
        elif term.name == "mx" and not term.is_modifier:
            hosts.append((target, "MX"))
    if parsed.redirect_ignored:
        spf_names = [n for n in spf_names if n != parsed.redirect]
    return tuple(spf_names), tuple(hosts)


def count_lookups(
    parsed: ParsedSpf,
    domain: str,
    fetched: Mapping[str, SpfFetch],
    hosts_absent: Mapping[tuple[str, str], bool | None] | None = None,
) -> LookupCount:
    """Count lookups through includes and redirects (RFC 7208 4.6.4) from prefetched data.

    `fetched[name]` is the SPF fetch of each include/redirect target; `hosts_absent[(name,
    "A"|"MX")]` is True when that a/mx target provably has no records (a void lookup), None
    when the lookup failed. Missing entries make the count incomplete.
    """
    state = _Counter(fetched, hosts_absent or {})
    by_term = []
    for term in _effective_terms(parsed):
        by_term.append((term.canonical(), state.term_cost(term, domain, (domain,))))
    return LookupCount(
        total=sum(cost for _, cost in by_term),
        void=state.void,
        by_term=tuple(by_term),
        problems=tuple(state.problems),
        incomplete=state.incomplete,
        dead_terms=tuple(dict.fromkeys(state.dead)),
    )


def _effective_terms(parsed: ParsedSpf) -> list[Term]:
    terms = [t for t in parsed.terms if not t.is_modifier or t.name == "redirect"]
    if parsed.redirect_ignored:
        terms = [t for t in terms if t.name != "redirect"]
    return terms


class _Counter:
    def __init__(self, fetched: Mapping[str, SpfFetch], hosts_absent: Mapping):
        self.fetched = fetched
        self.hosts_absent = hosts_absent
        self.void = 0
        self.problems: list[str] = []
        self.incomplete = False
        self.dead: list[str] = []

    def term_cost(self, term: Term, domain: str, chain: tuple[str, ...]) -> int:
        if not term.counts_lookup:
            return 0
        target = (term.value or domain).rstrip(".").lower()
        if term.name in ("a", "mx") and self._host_is_void(target, "A" if term.name == "a" else "MX", term.value):
            self._dead(term, chain)
        if term.name not in ("include", "redirect") or has_macro(term.value):
            return 1
        return 1 + self._nested_cost(term, target, chain)

    def _dead(self, term: Term, chain: tuple[str, ...]) -> None:
        if len(chain) == 1:
            self.dead.append(term.canonical())

    def _host_is_void(self, target: str, rtype: str, value: str) -> bool:
        if has_macro(value):
            return False
        absent = self.hosts_absent.get((target, rtype), False)
        if absent is None:
            self.incomplete = True
        elif absent:
            self.void += 1
        return bool(absent)

    def _nested_cost(self, term: Term, target: str, chain: tuple[str, ...]) -> int:
        if target in chain:
            self.problems.append(f"{term.name} loop: {' → '.join([*chain, target])}")
            return 0
        fetch = self.fetched.get(target)
        if fetch is None or fetch.failed:
            self.incomplete = True
            return 0
        if fetch.absent:
            self.void += 1
        if len(fetch.records) != 1:
            self._dead(term, chain)
            what = "no SPF record" if not fetch.records else f"{len(fetch.records)} SPF records"
            self.problems.append(f"{term.name}:{target} has {what} (a permanent error)")
            return 0
        try:
            nested = parse_spf(fetch.records[0])
        except SpfSyntaxError as exc:
            self._dead(term, chain)
            self.problems.append(f"{term.name}:{target} has an invalid record: {exc}")
            return 0
        return sum(self.term_cost(t, target, (*chain, target)) for t in _effective_terms(nested))


# ------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Evaluation:
    """pyspf's verdict for one sending IP and one domain."""

    ip: str
    domain: str
    result: str  # one of RESULTS
    detail: str  # pyspf's explanation, e.g. "SPF Permanent Error: Void lookup limit of 2 exceeded"

    @property
    def passes(self) -> bool:
        return self.result == "pass"


_resolver_for_thread = threading.local()
_install_lock = threading.Lock()


def _install_dns_hook() -> None:
    """Route pyspf's DNS questions to the resolver of the evaluation running in this thread.

    pyspf calls the module-level `spf.DNSLookup(name, qtype, strict, timeout)` for every
    question. We wrap it once: a thread that set a resolver gets ours; any other caller keeps
    pyspf's own behaviour. So concurrent evaluations with different resolvers never mix.
    """
    with _install_lock:
        if getattr(pyspf.DNSLookup, "_smewizard_hook", False):
            return
        original = pyspf.DNSLookup

        def dns_lookup(name, qtype, strict=True, timeout=30):
            resolver = getattr(_resolver_for_thread, "resolver", None)
            if resolver is None:
                return original(name, qtype, strict, timeout)
            return _pyspf_answers(resolver, name, qtype)

        dns_lookup._smewizard_hook = True  # type: ignore[attr-defined]
        pyspf.DNSLookup = dns_lookup


def _pyspf_answers(resolver: dns.resolver.Resolver, name: str, qtype: str) -> list:
    """Answers in the shape pyspf's DNSLookup returns: [((name, qtype), data), …]."""
    try:
        answer = resolver.resolve(name, qtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.DNSException, OSError) as exc:
        raise pyspf.TempError(f"DNS {type(exc).__name__}: {exc}") from None
    out = []
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            data = rdata.address
        elif qtype == "MX":
            data = (rdata.preference, rdata.exchange)
        elif qtype == "PTR":
            data = rdata.target.to_text(True)
        elif qtype in ("TXT", "SPF"):
            data = rdata.strings
        else:
            continue
        out.append(((name, qtype), data))
    return out


def evaluate(
    resolver: dns.resolver.Resolver,
    domain: str,
    ip: str,
    *,
    timeout: float = 20.0,
    record: str | None = None,
) -> Evaluation:
    """check_host(ip, domain, postmaster@domain) with RFC 7208 semantics (pyspf), for the
    published record or the given `record` text.

    Blocking: run it in a worker thread. DNS questions go to `resolver` only.
    """
    sender = f"postmaster@{domain}"
    result, detail = check_host(resolver, ip, sender, domain, timeout=timeout, record=record)
    return Evaluation(ip=ip, domain=domain, result=result, detail=detail)


def check_host(
    resolver: dns.resolver.Resolver,
    ip: str,
    sender: str,
    helo: str,
    *,
    timeout: float = 20.0,
    record: str | None = None,
) -> tuple[str, str]:
    """pyspf's (result, explanation) for a MAIL FROM `sender` (or the HELO name when
    `sender` is empty) sent from `ip`, asking only `resolver`. With `record`, that text is
    evaluated instead of the sender domain's published record (includes still use DNS)."""
    _install_dns_hook()
    _resolver_for_thread.resolver = resolver
    try:
        query = pyspf.query(i=ip, s=sender, h=helo, timeout=timeout)
        result, _code, detail = query.check(spf=record)
    except Exception as exc:  # noqa: BLE001 — pyspf raises odd things on odd input
        result, detail = "temperror", f"SPF evaluation failed: {type(exc).__name__}: {exc}"
    finally:
        _resolver_for_thread.resolver = None
    if result not in RESULTS:  # "ambiguous" exists only in pyspf's harsh mode
        result = "permerror"
    return result, detail


# ------------------------------------------------------------------------------- proposal
def ip_term(network: str) -> str:
    """"203.0.113.10" → "ip4:203.0.113.10"; "2001:db8::/48" → "ip6:2001:db8::/48"."""
    net = ipaddress.ip_network(network, strict=False)
    text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
    return ("ip4:" if net.version == 4 else "ip6:") + text


def _covered_by_terms(ip: str, terms: Iterable[Term]) -> bool:
    addr = ipaddress.ip_address(ip)
    for term in terms:
        if term.name not in ("ip4", "ip6") or term.qualifier != "+":
            continue
        prefix = term.cidr4 if term.name == "ip4" else term.cidr6
        suffix = f"/{prefix}" if prefix is not None else ""
        net = ipaddress.ip_network(term.value + suffix, strict=False)
        if addr.version == net.version and addr in net:
            return True
    return False


def propose_spf(
    current: ParsedSpf | None,
    server_ips: Collection[str],
    relay_ips: Collection[str] = (),
    networks: Collection[str] = (),
    *,
    passing: Collection[str] = (),
    allow_hard_fail: bool = True,
    drop: Collection[str] = (),
    costs: Mapping[str, int] | None = None,
) -> str:
    """The corrected record for one domain.

    Keeps the legitimate mechanisms of `current` (include, a, mx, ip4/ip6, exists, modifiers),
    drops `ptr`, duplicates, the old `all` and the `drop` terms (canonical text: void or
    broken references); authorises `networks` (the provider's allocated subnets) and every
    server/relay IP that neither passes already (`passing`) nor falls in such a network.
    When the kept terms would cost more than 10 lookups (`costs`: term → lookups, from
    `LookupCount.by_term`), a and mx terms give way to explicit addresses; includes stay,
    since they may authorise senders we do not know about.
    Ends with ~all — or keeps -all when the current record had it, nothing was missing and
    `allow_hard_fail` (False for a broken record, which was never in force). A record relying
    on redirect= keeps it and gets no `all` (that would disable the redirect).
    """
    kept = _kept_mechanisms(current, drop)
    redirect = current.redirect if current and current.all_term is None else None
    if redirect and f"redirect={redirect}" in drop:
        redirect = None
    if costs is not None and _cost(kept, redirect, costs) > MAX_DNS_LOOKUPS:
        kept = [t for t in kept if parse_term(t).name not in ("a", "mx")]
        passing = ()
    added, missing = _missing_senders(kept, [*server_ips, *relay_ips], networks, passing)
    out = ["v=spf1", *kept, *added]
    if redirect:
        out.append(f"redirect={redirect}")
    else:
        hard = allow_hard_fail and current is not None and current.all_qualifier == "-" and not missing
        out.append("-all" if hard else "~all")
    modifiers = current.modifiers if current else ()
    out.extend(f"{t.name}={t.value}" for t in modifiers if t.name != "redirect")
    return " ".join(out)


def _kept_mechanisms(current: ParsedSpf | None, drop: Collection[str]) -> list[str]:
    kept: list[str] = []
    for term in current.mechanisms if current else ():
        text = term.canonical()
        if term.name not in ("ptr", "all") and text not in kept and text not in drop:
            kept.append(text)
    return kept


def _cost(kept: list[str], redirect: str | None, costs: Mapping[str, int]) -> int:
    terms = [parse_term(t) for t in kept]
    total = sum(costs.get(t.canonical(), 1) for t in terms if t.counts_lookup)
    return total + (costs.get(f"redirect={redirect}", 1) if redirect else 0)


def _missing_senders(
    kept: list[str], ips: list[str], networks: Collection[str], passing: Collection[str]
) -> tuple[list[str], bool]:
    """ip4/ip6 terms to add (allocated networks first), and whether any sender was missing."""
    kept_terms = [parse_term(t) for t in kept]
    nets = [ipaddress.ip_network(n, strict=False) for n in networks]
    added = [ip_term(str(n)) for n in nets]
    added = [t for i, t in enumerate(added) if t not in kept and t not in added[:i]]
    missing = False
    for ip in ips:
        if ip in passing or _covered_by_terms(ip, kept_terms):
            continue
        missing = True
        addr = ipaddress.ip_address(ip)
        text = ip_term(ip)
        if not any(addr.version == n.version and addr in n for n in nets) and text not in added:
            added.append(text)
    return added, missing


def kept_terms_record(current: ParsedSpf, drop: Collection[str] = ()) -> str:
    """The part of `current` a proposal keeps, ending in ~all: evaluating it tells which
    senders still pass once ptr, +all, dead references and the like are gone."""
    return propose_spf(current, (), (), drop=drop)


def lookups_after_proposal(count: LookupCount, proposal: str) -> int:
    """The proposal's worst-case lookups, reusing the costs counted for the current terms."""
    costs = dict(count.by_term)
    total = 0
    for term in parse_spf(proposal).terms:
        if term.counts_lookup:
            total += costs.get(term.canonical(), 1)
    return total


