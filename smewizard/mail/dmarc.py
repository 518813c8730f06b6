"""DMARC policy records: parse, validate, build, and find them by the RFC 9989 DNS tree walk.

We build records for RFC 9989 (DMARCbis) while reading what RFC 7489 receivers still expect:
`pct`, `rf` and `ri` were removed by RFC 9989, so we never write them and warn (not fail) when a
published record carries them; `np`, `psd` and the policy-testing flag `t` are new.

Two different things are called `t=y` in email authentication and must not be confused:
- DMARC `t=y` (this module): *policy testing*. Receivers apply one step less than the published
  policy (reject is treated as quarantine, quarantine as none) and report as usual. It is how
  RFC 9989 replaces the old `pct=0` trick for a gentle roll-out.
- DKIM `t=y` (in the DKIM key record): *key testing*. Verifiers treat a signature as if the
  message were unsigned. It says nothing about DMARC policy.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from smewizard import validate

POLICIES = ("none", "quarantine", "reject")
ALIGNMENTS = ("r", "s")
REMOVED_TAGS = {
    "pct": "pct (percentage of mail the policy applies to) was removed by RFC 9989; receivers "
    "following it ignore the tag. Use the policy-testing flag t=y for a gentle roll-out.",
    "rf": "rf (failure report format) was removed by RFC 9989; AFRF is the only format.",
    "ri": "ri (report interval) was removed by RFC 9989; receivers send daily reports anyway.",
}
KNOWN_TAGS = ("v", "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo")
MAX_TREE_WALK_LABELS = 8  # RFC 9989 4.10: start at most 8 labels deep, then one label at a time


SHOWN_VALUE_CHARS = 40  # a value quoted in a one-line message is cut here


def shorten(text: str, limit: int = SHOWN_VALUE_CHARS) -> str:
    """`text` if short, else its start, an ellipsis and its full length: a value published in
    DNS can be thousands of characters, and a finding's message must stay one readable line."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def quoted(value: str, limit: int = SHOWN_VALUE_CHARS) -> str:
    """`value` quoted for a message, shortened like `shorten`."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value):,} characters)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record; `fatal` problems make receivers discard the record."""

    tag: str
    message: str
    fatal: bool = False
    removed: bool = False


@dataclass(frozen=True)
class ReportUri:
    """A `rua`/`ruf` destination: "mailto:dmarc@example.com" (an RFC 7489 "!10m" size suffix is
    kept but ignored)."""

    uri: str
    scheme: str
    address: str  # the mailbox for mailto:, else the whole URI

    @property
    def host(self) -> str | None:
        """The domain part of a mailto: address, lower case."""
        if self.scheme != "mailto" or "@" not in self.address:
            return None
        return self.address.rsplit("@", 1)[1].lower()

    @property
    def local_part(self) -> str | None:
        if self.scheme != "mailto" or "@" not in self.address:
            return None
        return self.address.rsplit("@", 1)[0]


@dataclass(frozen=True)
class DmarcRecord:
    """A parsed DMARC record. Absent optional tags carry their RFC 9989 defaults; `explicit`
    lists the tags actually written."""

    text: str
    policy: str | None  # p; None when missing or invalid
    subdomain_policy: str | None  # sp (None: same as p)
    nonexistent_policy: str | None  # np (None: same as sp, then p)
    adkim: str = "r"
    aspf: str = "r"
    testing: bool = False  # t=y: policy testing (NOT the DKIM key-testing flag)
    psd: str = "u"
    rua: tuple[ReportUri, ...] = ()
    ruf: tuple[ReportUri, ...] = ()
    fo: str = "0"
    explicit: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not any(p.fatal for p in self.problems)

    @property
    def effective_policy(self) -> str:
        """What receivers apply when p is missing or invalid but the record is otherwise usable
        (RFC 9989: treat as p=none)."""
        return self.policy or "none"


@dataclass(frozen=True)
class ParseResult:
    record: DmarcRecord | None
    problems: tuple[Problem, ...] = ()

    @property
    def fatal(self) -> bool:
        return self.record is None or not self.record.valid


_TAG = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*)$", re.S)


def is_dmarc_record(text: str) -> bool:
    """Whether a TXT string is meant as a DMARC record (starts with the v=DMARC1 tag)."""
    head = text.lstrip().split(";", 1)[0]
    name, _, value = head.partition("=")
    return name.strip().lower() == "v" and value.strip().upper() == "DMARC1"


def parse_record(text: str) -> ParseResult:
    """Parse and validate every tag. Never raises; problems say what is wrong in plain words."""
    parts = [p.strip() for p in text.split(";")]
    while parts and parts[-1] == "":
        parts.pop()
    problems: list[Problem] = []
    tags: dict[str, str] = {}
    order: list[str] = []
    for index, part in enumerate(parts):
        if not part:
            continue
        match = _TAG.match(part)
        if not match:
            problems.append(Problem("", f"{quoted(part)} is not a tag=value pair", fatal=index == 0))
            continue
        name, value = match.group(1).lower(), match.group(2).strip()
        if name in tags:
            problems.append(Problem(name, f"tag {shorten(name)} appears twice; receivers may discard the record", fatal=True))
            continue
        tags[name] = value
        order.append(name)
    if not order or order[0] != "v" or tags.get("v", "") != "DMARC1":
        problems.insert(0, Problem("v", "the record must start with v=DMARC1 (exactly, as the first tag)", fatal=True))
        return ParseResult(None, tuple(problems))
    if len(order) > 1 and order[1] != "p" and "p" in tags:
        problems.append(Problem("p", "p is not right after v; RFC 7489 receivers require that order (RFC 9989 does not)"))

    policy = _policy(tags, "p", problems)
    if "p" not in tags:
        problems.append(Problem("p", "no p tag: receivers treat the record as p=none"))
    sp = _policy(tags, "sp", problems)
    np = _policy(tags, "np", problems)
    adkim = _choice(tags, "adkim", ALIGNMENTS, "r", problems)
    aspf = _choice(tags, "aspf", ALIGNMENTS, "r", problems)
    testing = _choice(tags, "t", ("y", "n"), "n", problems) == "y"
    psd = _choice(tags, "psd", ("y", "n", "u"), "u", problems)
    rua = _uris(tags, "rua", problems)
    ruf = _uris(tags, "ruf", problems)
    fo = _fo(tags, problems)
    for name in order:
        if name in REMOVED_TAGS:
            problems.append(Problem(name, REMOVED_TAGS[name], removed=True))
        elif name not in KNOWN_TAGS:
            problems.append(Problem(name, f"unknown tag {shorten(name)}: receivers ignore it"))
    record = DmarcRecord(
        text=text,
        policy=policy,
        subdomain_policy=sp,
        nonexistent_policy=np,
        adkim=adkim,
        aspf=aspf,
        testing=testing,
        psd=psd,
        rua=rua,
        ruf=ruf,
        fo=fo,
        explicit=tuple(order),
        problems=tuple(problems),
    )
    return ParseResult(record, tuple(problems))


def _policy(tags: dict[str, str], name: str, problems: list[Problem]) -> str | None:
    if name not in tags:
        return None
    value = tags[name].lower()
    if value not in POLICIES:
        problems.append(Problem(name, f"{name}={quoted(tags[name])} is not none, quarantine or reject", fatal=name == "p"))
        return None
    return value


def _choice(tags: dict[str, str], name: str, allowed: tuple[str, ...], default: str, problems: list[Problem]) -> str:
    if name not in tags:
        return default
    value = tags[name].lower()
    if value not in allowed:
        problems.append(Problem(name, f"{name}={quoted(tags[name])} must be one of {', '.join(allowed)}; using {default}"))
        return default
    return value


def _uris(tags: dict[str, str], name: str, problems: list[Problem]) -> tuple[ReportUri, ...]:
    if name not in tags:
        return ()
    out = []
    for raw in tags[name].split(","):
        raw = raw.strip()
        uri = parse_report_uri(raw)
        if uri is None:
            problems.append(Problem(name, f"{quoted(raw)} is not a usable report address (expected mailto:user@domain)"))
        else:
            out.append(uri)
    return tuple(out)


_MAILBOX = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")


def parse_report_uri(raw: str) -> ReportUri | None:
    """A DMARC report URI or None. Only mailto: is delivered in practice."""
    uri = raw.split("!", 1)[0].strip()
    scheme, sep, rest = uri.partition(":")
    if not sep or not scheme:
        return None
    scheme = scheme.lower()
    if scheme == "mailto":
        address = rest.split("?", 1)[0]
        if not _MAILBOX.match(address):
            return None
        try:
            validate.domain_name(address.rsplit("@", 1)[1])
        except validate.InvalidValue:
            return None
        return ReportUri(uri, scheme, address)
    if scheme in ("http", "https") and rest.startswith("//"):
        return ReportUri(uri, scheme, uri)
    return None


def _fo(tags: dict[str, str], problems: list[Problem]) -> str:
    if "fo" not in tags:
        return "0"
    options = [o.strip().lower() for o in tags["fo"].split(":")]
    bad = [o for o in options if o not in ("0", "1", "d", "s")]
    if bad:
        problems.append(Problem("fo", f"fo={quoted(tags['fo'])}: options must be 0, 1, d or s separated by ':'"))
        return "0"
    return ":".join(options)


# ------------------------------------------------------------------ building
@dataclass(frozen=True)
class RecordSpec:
    """What to publish. We always write relaxed alignment unless asked otherwise, never pct."""

    domain: str
    policy: str = "none"
    adkim: str = "r"
    aspf: str = "r"
    rua: tuple[str, ...] = ()
    testing: bool = False
    subdomain_policy: str | None = None
    nonexistent_policy: str | None = None

    def __post_init__(self) -> None:
        validate.domain_name(self.domain)
        if self.policy not in POLICIES:
            raise validate.InvalidValue(f"policy {self.policy!r} must be none, quarantine or reject")
        for name, value in (("adkim", self.adkim), ("aspf", self.aspf)):
            if value not in ALIGNMENTS:
                raise validate.InvalidValue(f"{name} {value!r} must be r (relaxed) or s (strict)")
        for name, value in (("sp", self.subdomain_policy), ("np", self.nonexistent_policy)):
            if value is not None and value not in POLICIES:
                raise validate.InvalidValue(f"{name} {value!r} must be none, quarantine or reject")
        for uri in self.rua:
            if parse_report_uri(uri) is None or any(c in uri for c in ";, \"\\"):
                raise validate.InvalidValue(f"report address {uri!r} must look like mailto:user@domain")


def default_rua(domain: str) -> str:
    return f"mailto:dmarc-feedback@{validate.domain_name(domain)}"


def build_record(spec: RecordSpec) -> str:
    """The TXT value, tags in the order RFC 7489 receivers also accept (v, then p)."""
    tags = [("v", "DMARC1"), ("p", spec.policy)]
    if spec.subdomain_policy:
        tags.append(("sp", spec.subdomain_policy))
    if spec.nonexistent_policy:
        tags.append(("np", spec.nonexistent_policy))
    tags += [("adkim", spec.adkim), ("aspf", spec.aspf)]
    if spec.rua:
        tags.append(("rua", ",".join(spec.rua)))
    if spec.testing:
        tags.append(("t", "y"))
    return "; ".join(f"{k}={v}" for k, v in tags)


def record_name(domain: str) -> str:
    return f"_dmarc.{domain}"


def authorization_name(domain: str, report_host: str) -> str:
    """Where an external report receiver authorises reports about `domain` (RFC 9989 / 7489)."""
    return f"{domain}._report._dmarc.{report_host}"


AUTHORIZATION_VALUE = "v=DMARC1"


def spec_from_record(domain: str, record: DmarcRecord) -> RecordSpec:
    """The spec of a published record, for proposing a changed copy that keeps its rua."""
    rua = tuple(u.uri for u in record.rua if u.scheme == "mailto") or (default_rua(domain),)
    return RecordSpec(
        domain=domain,
        policy=record.effective_policy,
        adkim=record.adkim,
        aspf=record.aspf,
        rua=rua,
        testing=record.testing,
        subdomain_policy=record.subdomain_policy,
        nonexistent_policy=record.nonexistent_policy,
    )


# ------------------------------------------------------------------ tree walk
def walk_targets(domain: str) -> list[str]:
    """The names whose `_dmarc` TXT the RFC 9989 tree walk queries, in order: the domain
    itself, then (shortened to at most 7 labels when longer) each parent down to the TLD."""
    labels = domain.rstrip(".").lower().split(".")
    targets = [".".join(labels)]
    rest = labels[1:]
    if len(labels) >= MAX_TREE_WALK_LABELS:
        rest = labels[-(MAX_TREE_WALK_LABELS - 1):]
    while rest:
        targets.append(".".join(rest))
        rest = rest[1:]
    return targets


@dataclass(frozen=True)
class WalkStep:
    """One query of the walk: the `_dmarc` name asked, the TXT strings, and what they held."""

    target: str
    outcome: str  # "record", "none", "multiple", "failed"
    txt: tuple[str, ...] = ()
    error: str = ""
    dmarc: tuple[str, ...] = ()


@dataclass(frozen=True)
class Discovery:
    """Result of the policy discovery for one domain."""

    domain: str
    steps: tuple[WalkStep, ...]
    record_text: str | None = None  # the record that applies
    found_at: str | None = None  # the domain (not _dmarc name) the record was found at
    organizational_domain: str | None = None
    failed: bool = False  # a lookup failed before a record was found: we cannot tell

    @property
    def own(self) -> WalkStep | None:
        return self.steps[0] if self.steps else None

    @property
    def inherited(self) -> bool:
        return self.found_at is not None and self.found_at != self.domain


TxtLookup = Callable[[str], Awaitable[object]]


async def discover(domain: str, txt: TxtLookup) -> Discovery:
    """RFC 9989 policy discovery and organizational domain (DNS tree walk, no Public Suffix
    List). `txt(name)` returns a `smewizard.dns.Lookup`. Stops at the first usable record for
    the policy; keeps walking only to find the organizational domain."""
    steps: list[WalkStep] = []
    record_text = found_at = None
    org: str | None = None
    previous: str | None = None
    candidates: list[str] = []
    for target in walk_targets(domain):
        lookup = await txt(record_name(target))
        step = _walk_step(target, lookup)
        steps.append(step)
        if step.outcome == "failed" and "." not in target and steps[0].outcome != "failed":
            # A TLD's _dmarc (a public-suffix policy) could not be asked. It never changes what
            # the domain's owner must publish, so the walk ends here as if nothing were found.
            break
        if step.outcome == "failed":
            return Discovery(domain, tuple(steps), record_text, found_at, org, failed=record_text is None)
        if step.outcome == "record":
            parsed = parse_record(step.dmarc[0])
            if record_text is None:
                record_text, found_at = step.dmarc[0], target
            psd = parsed.record.psd if parsed.record else "u"
            if psd == "n":
                org = target
                break
            if psd == "y":
                org = previous or target
                break
            candidates.append(target)
        previous = target
    if org is None:
        org = candidates[-1] if candidates else domain
    return Discovery(domain, tuple(steps), record_text, found_at, org, failed=False)


def _walk_step(target: str, lookup) -> WalkStep:
    if lookup.failed:
        return WalkStep(target, "failed", error=lookup.describe())
    txt = tuple(lookup.values) if lookup.ok else ()
    dmarc = tuple(t for t in txt if is_dmarc_record(t))
    if len(dmarc) > 1:
        return WalkStep(target, "multiple", txt, dmarc=dmarc)
    if len(dmarc) == 1:
        return WalkStep(target, "record", txt, dmarc=dmarc)
    return WalkStep(target, "none", txt)


def relaxed_aligned(a: str, b: str, organizational_domain: str) -> bool:
    """Relaxed alignment: both names are the organizational domain or below it."""
    org = organizational_domain.lower()
    return all(n.lower() == org or n.lower().endswith("." + org) for n in (a, b))


def is_subdomain(name: str, domain: str) -> bool:
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    return name.endswith("." + domain)


@dataclass(frozen=True)
class ExternalReporting:
    """A rua/ruf destination outside the domain and whether it authorised our reports."""

    uri: ReportUri
    host: str
    authorization_name: str
    authorized: bool | None = None  # None: lookup failed (unknown)
    error: str = ""
    values: tuple[str, ...] = field(default=())


def external_report_hosts(domain: str, record: DmarcRecord, organizational_domain: str) -> list[ReportUri]:
    """mailto: destinations whose host lies outside the domain's organizational domain; those
    receivers only send reports when the host publishes the authorization record."""
    out = []
    org = organizational_domain.lower()
    for uri in (*record.rua, *record.ruf):
        host = uri.host
        if host and host != org and not host.endswith("." + org) and host != domain:
            out.append(uri)
    return out
