"""Step 2, DKIM (guide Part 2): per hosted domain, which key qpsmtpd will sign with, whether
the files, ownership, modes, DKIMSigning and the template links are right, and whether the
published `<selector>._domainkey.<domain>` record verifies a real signature made with the
server's key. Codes DKIM001… are documented in docs/finding-codes.md and docs/dkim.md.

The probe reads private keys only to derive the public half and to sign one sample message in
memory; nothing derived from a private key except its public half leaves the probe.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from datetime import date

from smewizard import validate
from smewizard.actions.base import Action, SetProp, SignalEvent
from smewizard.dns import Lookup
from smewizard.host.base import FileStat, Host, HostError, PermissionDenied
from smewizard.mail import dkim as mk
from smewizard.model import Assessment, Finding, Record, Status
from smewizard.steps.base import Context, ServerFacts

PART = "Part 2"
STEP_KEY = "dkim"
SELECTOR_READ_LIMIT = 512
KEY_READ_LIMIT = 64 * 1024


# ------------------------------------------------------------------------------- facts
@dataclass(frozen=True)
class KeyDirFacts:
    """One SME key directory (`dkim_keys/<domain>`, `dkim_keys/default` or a staged `.next`)."""

    name: str
    path: str
    dir_stat: FileStat | None
    selector_stat: FileStat | None = None
    selector_raw: bytes | None = None
    private_stat: FileStat | None = None
    key: mk.KeyInfo | None = None  # None when the key file could not be read
    denied: str = ""  # why we could not look (the wizard is not root)

    @property
    def exists(self) -> bool:
        return self.dir_stat is not None and (self.dir_stat.is_dir or self.dir_stat.is_symlink)

    @property
    def selector(self) -> mk.SelectorCheck | None:
        return mk.check_selector(self.selector_raw) if self.selector_raw is not None else None

    @property
    def usable(self) -> bool:
        sel = self.selector
        return bool(self.key and self.key.ok and sel and sel.ok)


@dataclass(frozen=True)
class LinkFacts:
    """`/var/service/qpsmtpd/config/dkim/<domain>/`, what the qpsmtpd plugin really reads."""

    path: str
    dir_stat: FileStat | None
    selector_stat: FileStat | None
    private_stat: FileStat | None
    selector_resolved: str | None  # where the link finally leads (None: dangling or absent)
    private_resolved: str | None
    selector_raw: bytes | None  # the selector as the plugin would read it through the link
    private_readable_by_qpsmtpd: bool
    denied: str = ""  # why we could not follow them (the wizard is not root)


@dataclass(frozen=True)
class WrongLocation:
    path: str  # e.g. /etc/qpsmtpd/dkim/example.com
    private_name: str | None  # `private` (upstream layout) or `default` (SME's), None: no key
    denied: str = ""  # we could not look inside: it may hold a key

    @property
    def has_private(self) -> bool:
        return self.private_name is not None


@dataclass(frozen=True)
class Published:
    """The TXT record at one selector, and the real DKIM proof against it."""

    selector: str
    name: str
    lookup: Lookup
    proof: mk.Proof | None = None

    @property
    def dkim_texts(self) -> tuple[str, ...]:
        return self.lookup.values


class Source(enum.StrEnum):
    DOMAIN = "domain"  # dkim_keys/<domain>
    DEFAULT = "default"  # dkim_keys/default fallback
    NONE = "none"
    UNKNOWN = "unknown"  # the wizard may not look (not root)


class PluginOutcome(enum.StrEnum):
    """What the qpsmtpd dkim plugin will log for relayed mail from the domain."""

    SIGN = "sign"  # "dkim: pass, we signed the message"
    SKIP = "skip"  # "dkim: skip, DKIM not configured for <domain>"
    KEY_ERROR = "key-error"  # "dkim: error, unable to read dkim key from …/private"
    BAD_SELECTOR = "bad-selector"  # signs, but with a selector no DNS record can match
    UNKNOWN = "unknown"  # the wizard may not read the links (not root)


@dataclass(frozen=True)
class DomainDkim:
    domain: str
    own: KeyDirFacts
    links: LinkFacts
    wrong: tuple[WrongLocation, ...] = ()
    published: Published | None = None  # at the active key's selector
    staged: KeyDirFacts | None = None  # rotation: dkim_keys/<name>.next
    staged_published: Published | None = None
    retired_selector: str | None = None  # selector of the newest archived key
    retired_published: Published | None = None
    default: KeyDirFacts | None = None  # the shared fallback dir (same object for all domains)

    @property
    def source(self) -> Source:
        if self.own.exists:
            return Source.DOMAIN
        if self.own.denied:
            return Source.UNKNOWN
        if self.default is not None and self.default.exists:
            return Source.DEFAULT
        if self.default is not None and self.default.denied:
            return Source.UNKNOWN
        return Source.NONE

    @property
    def denials(self) -> tuple[str, ...]:
        """Why parts of this domain's key setup could not be inspected (empty as root)."""
        found = [self.own.denied, self.links.denied, *(w.denied for w in self.wrong)]
        if self.source is not Source.DOMAIN and self.default is not None:
            found.append(self.default.denied)
        return tuple(dict.fromkeys(x for x in found if x))

    @property
    def active(self) -> KeyDirFacts | None:
        return {Source.DOMAIN: self.own, Source.DEFAULT: self.default}.get(self.source)


@dataclass(frozen=True)
class DkimFacts:
    domains: tuple[DomainDkim, ...]
    default: KeyDirFacts
    signing_prop: str | None  # configuration qpsmtpd DKIMSigning
    qpsmtpd_record: bool  # the configuration db has a qpsmtpd record
    smtpd_home: str | None
    today: date = field(default_factory=date.today)
    problems: tuple[str, ...] = ()


# ------------------------------------------------------------------------------- probe
def expected_link_targets(source_dir: str) -> tuple[str, str]:
    """(selector, private) files the template links must point at for a key directory."""
    return f"{source_dir}/{mk.SELECTOR_FILE}", f"{source_dir}/{mk.PRIVATE_FILE}"


def _safe_stat(host: Host, path: str) -> FileStat | None:
    try:
        return host.stat(path)
    except HostError:
        return None


def read_key_dir(
    host: Host, name: str, path: str | None = None
) -> tuple[KeyDirFacts, mk.SecretBytes | None]:
    """Facts about a key directory, plus the private key bytes for the caller to use in
    memory (never stored in the facts)."""
    path = path or mk.key_dir(name)
    try:
        dir_stat = host.stat(path)
    except PermissionDenied as exc:
        return KeyDirFacts(name, path, None, denied=str(exc)), None
    if dir_stat is None:
        return KeyDirFacts(name, path, None), None
    sel_path, key_path = expected_link_targets(path)
    denied = ""
    selector_raw = None
    pem = None
    try:
        selector_stat = host.stat(sel_path)
        private_stat = host.stat(key_path)
    except PermissionDenied as exc:
        return KeyDirFacts(name, path, dir_stat, denied=str(exc)), None
    try:
        if selector_stat is not None:
            selector_raw = host.read_bytes(sel_path, limit=SELECTOR_READ_LIMIT)
        if private_stat is not None:
            pem = mk.SecretBytes(host.read_bytes(key_path, limit=KEY_READ_LIMIT))
    except PermissionDenied as exc:
        denied = str(exc)
    except HostError:
        pass
    key = mk.inspect_private_key(pem) if pem is not None else None
    facts = KeyDirFacts(name, path, dir_stat, selector_stat, selector_raw, private_stat, key, denied)
    return facts, pem


def _permits(stat: FileStat | None, user: str, bit: int) -> bool:
    """`bit` (4 read, 1 search) granted to `user` as owner, as its own group, or to others."""
    if stat is None:
        return False
    if stat.owner == user and stat.mode & (bit << 6):
        return True
    if stat.group == user and stat.mode & (bit << 3):
        return True
    return bool(stat.mode & bit)


def readable_by(stat: FileStat | None, user: str) -> bool:
    return _permits(stat, user, 0o4)


def read_links(host: Host, domain: str) -> LinkFacts:
    base = mk.link_dir(domain)
    try:
        return _read_links(host, base)
    except PermissionDenied as exc:
        return LinkFacts(base, None, None, None, None, None, None, False, denied=str(exc))


def _read_links(host: Host, base: str) -> LinkFacts:
    """Raises PermissionDenied when any link or its target cannot be inspected: a link we may
    not follow is unknown, not missing."""
    sel_link, key_link = f"{base}/{mk.LINK_SELECTOR}", f"{base}/{mk.LINK_PRIVATE}"
    dir_stat = host.stat(base)
    sel_stat = host.stat(sel_link) if dir_stat else None
    key_stat = host.stat(key_link) if dir_stat else None
    sel_resolved = host.resolve(sel_link) if sel_stat else None
    key_resolved = host.resolve(key_link) if key_stat else None
    selector_raw = None
    if sel_resolved:
        try:
            selector_raw = host.read_bytes(sel_resolved, limit=SELECTOR_READ_LIMIT)
        except PermissionDenied:
            raise
        except HostError:
            selector_raw = None
    key_target = host.stat(key_resolved) if key_resolved else None
    key_folder = host.stat(key_resolved.rsplit("/", 1)[0] or "/") if key_resolved else None
    return LinkFacts(
        base, dir_stat, sel_stat, key_stat, sel_resolved, key_resolved, selector_raw,
        readable_by(key_target, mk.KEY_OWNER) and traversable_by(key_folder, mk.KEY_OWNER),
    )


def traversable_by(stat: FileStat | None, user: str) -> bool:
    """The folder holding the key can be entered by `user` (x permission)."""
    return _permits(stat, user, 0o1)


def wrong_location_roots(host: Host, smtpd_home: str | None) -> tuple[str, ...]:
    """The old key folders that exist (or cannot be inspected), looked at once per audit
    rather than once per domain."""
    roots = list(mk.WRONG_DIRS)
    if smtpd_home:
        roots.append(f"{smtpd_home}/config/dkim")
    present = []
    for root in roots:
        try:
            if host.stat(root) is not None:
                present.append(root)
        except PermissionDenied:
            present.append(root)  # the per-domain look reports it as "cannot inspect"
        except HostError:
            continue
    return tuple(present)


def find_wrong_locations(host: Host, domain: str, roots: tuple[str, ...]) -> tuple[WrongLocation, ...]:
    found = []
    for root in roots:
        path = f"{root}/{domain}"
        try:
            st = host.stat(path)
            if st is None or not st.is_dir:
                continue
            private_name = next(
                (n for n in (mk.LINK_PRIVATE, mk.PRIVATE_FILE)
                 if host.stat(f"{path}/{n}") is not None), None)
        except PermissionDenied as exc:
            found.append(WrongLocation(path, None, denied=str(exc)))
        except HostError:
            continue
        else:
            found.append(WrongLocation(path, private_name))
    return tuple(found)


def newest_archive(host: Host, name: str) -> str | None:
    try:
        entries = host.list_dir(mk.KEYS_DIR)
    except HostError:
        return None
    archives = sorted(e for e in entries if e.startswith(f"{name}.OLD-backup-"))
    return f"{mk.KEYS_DIR}/{archives[-1]}" if archives else None


def _smtpd_home(host: Host) -> str | None:
    try:
        return mk.smtpd_home(host.read_text("/etc/passwd", limit=1 << 20))
    except HostError:
        return None


def _txt_func(ctx: Context) -> mk.TxtFunc:
    def txt(name: str) -> tuple[str, ...] | None:
        lookup = ctx.dns.lookup_sync(name, "TXT")
        if lookup.failed:
            raise mk.DnsUnavailable(lookup.describe())
        return lookup.values if lookup.ok else None

    return txt


async def _published(
    ctx: Context, domain: str, selector: str, pem: mk.SecretBytes | None
) -> Published:
    name = mk.dkim_record_name(selector, domain)
    lookup = await ctx.dns.txt(name)
    proof = None
    if pem is not None and lookup.ok:
        proof = await ctx.io(mk.prove_key, pem, domain, selector, _txt_func(ctx))
    elif lookup.failed:
        proof = mk.Proof(mk.ProofOutcome.DNS_FAILED, lookup.describe())
    return Published(selector, name, lookup, proof)


def selector_of(facts: KeyDirFacts | None) -> str | None:
    check = facts.selector if facts else None
    if check is None or not check.cleaned:
        return None
    try:
        return validate.dns_label(check.cleaned)
    except validate.InvalidValue:
        return None


async def probe_domain(
    ctx: Context, domain: str, default: KeyDirFacts, default_pem: mk.SecretBytes | None,
    wrong_roots: tuple[str, ...],
) -> DomainDkim:
    own, own_pem = await ctx.io(read_key_dir, ctx.host, domain)
    links = await ctx.io(read_links, ctx.host, domain)
    wrong = await ctx.io(find_wrong_locations, ctx.host, domain, wrong_roots)
    partial = DomainDkim(domain, own, links, wrong, default=default)
    active = partial.active
    pem = own_pem if partial.source is Source.DOMAIN else default_pem
    name = domain if partial.source is Source.DOMAIN else mk.DEFAULT_KEY_NAME
    published = staged_pub = retired_pub = None
    staged = retired_selector = None
    selector = selector_of(active)
    if selector and active and active.key and active.key.ok:
        published = await _published(ctx, domain, selector, pem)
    if active is not None:
        staged, staged_pem = await ctx.io(read_key_dir, ctx.host, name, mk.staged_dir(name))
        if not staged.exists:
            staged = None
        staged_sel = selector_of(staged)
        if staged and staged_sel and staged.key and staged.key.ok:
            staged_pub = await _published(ctx, domain, staged_sel, staged_pem)
        archive = await ctx.io(newest_archive, ctx.host, name)
        if archive:
            old, _ = await ctx.io(read_key_dir, ctx.host, name, archive)
            retired_selector = selector_of(old)
            if retired_selector and retired_selector != selector:
                lookup = await ctx.dns.txt(mk.dkim_record_name(retired_selector, domain))
                retired_pub = Published(retired_selector, lookup.name, lookup)
    return DomainDkim(
        domain, own, links, wrong, published, staged, staged_pub, retired_selector, retired_pub,
        default,
    )


async def probe(ctx: Context, server: ServerFacts) -> DkimFacts:
    default, default_pem = await ctx.io(read_key_dir, ctx.host, mk.DEFAULT_KEY_NAME)
    smtpd_home = await ctx.io(_smtpd_home, ctx.host)
    wrong_roots = await ctx.io(wrong_location_roots, ctx.host, smtpd_home)
    domains = await asyncio.gather(
        *(probe_domain(ctx, d, default, default_pem, wrong_roots) for d in server.domains)
    )
    del default_pem
    config = server.config
    return DkimFacts(
        domains=tuple(domains),
        default=default,
        signing_prop=config.qpsmtpd.get("DKIMSigning"),
        qpsmtpd_record=config.configuration.get("qpsmtpd") is not None,
        smtpd_home=smtpd_home,
        today=ctx.clock().date(),
    )


# ------------------------------------------------------------------------------- prediction
def predict(d: DomainDkim) -> PluginOutcome:
    """What the real qpsmtpd dkim plugin will do for relayed mail from `d.domain`, judged from
    the files it opens (config/dkim/<domain>/{selector,private}), like the plugin does."""
    links = d.links
    if links.denied:
        return PluginOutcome.UNKNOWN
    if links.dir_stat is None:
        return PluginOutcome.SKIP
    if links.private_resolved is None or not links.private_readable_by_qpsmtpd:
        return PluginOutcome.KEY_ERROR
    if links.selector_raw is None or not mk.check_selector(links.selector_raw).ok:
        return PluginOutcome.BAD_SELECTOR
    return PluginOutcome.SIGN


# ------------------------------------------------------------------------------- assess
def _f(code: str, status: Status, message: str, explanation: str, domain: str | None) -> Finding:
    return Finding(code, status, message, explanation, PART, domain)


ROOT_HINT = ("Re-run the wizard as root (`sudo smewizard …`) to inspect it; until then nothing "
             "is proposed for this domain's key, because a key the wizard cannot see may be "
             "the one whose record is already published.")

SKIP_CAUSE = ("qpsmtpd logs `dkim: skip, DKIM not configured for {domain}` and sends the "
              "mail unsigned.")


def assess(facts: DkimFacts) -> Assessment:
    findings: list[Finding] = []
    actions: list[Action] = []
    records: list[Record] = []
    needs_event = False
    if facts.signing_prop != "enabled":
        findings.append(_f(
            "DKIM014", Status.FAIL,
            f"DKIMSigning is {facts.signing_prop or 'not set'} in the qpsmtpd configuration",
            "SME signs outbound mail only with `db configuration setprop qpsmtpd DKIMSigning "
            "enabled` followed by `signal-event email-update`; keys alone are not enough "
            "(guide Part 2).", None))
        actions.append(SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled",
                               step=STEP_KEY, record_type="service",
                               why="turn DKIM signing on"))
        needs_event = True
    for d in facts.domains:
        result = assess_domain(d, facts)
        findings.extend(result.findings)
        actions.extend(a for a in result.actions if a not in actions)
        records.extend(result.records)
        needs_event = needs_event or result.needs_event
    actions = _gate_default_switch(facts, actions)
    if needs_event:
        actions.append(SignalEvent("email-update", step=STEP_KEY))
        actions.extend(_link_checks(facts, actions))
    return Assessment(STEP_KEY, tuple(findings), tuple(actions), tuple(records))


def _gate_default_switch(facts: DkimFacts, actions: list[Action]) -> list[Action]:
    """The shared default key switches only when EVERY domain relying on it has its new record
    published and verified."""
    from smewizard.actions import dkim as acts

    users = [d for d in facts.domains if d.source is Source.DEFAULT]
    ready = all((r := rotation_of(d)) is not None and r.next_stage is mk.RotationStage.SWITCH
                for d in users)
    return [a for a in actions if ready or not (
        isinstance(a, acts.ActivateStagedDkimKey) and a.name == mk.DEFAULT_KEY_NAME)]


def _link_checks(facts: DkimFacts, actions: list[Action]) -> list[Action]:
    """After email-update: confirm the links now lead to the key each domain will use."""
    from smewizard.actions import dkim as acts

    created = {a.name for a in actions if isinstance(a, acts.GenerateDkimKey) and not a.staged}
    created |= {a.domain_name for a in actions if isinstance(a, acts.MigrateDkimKeys)}
    checks: list[Action] = []
    for d in facts.domains:
        if d.own.exists or d.domain in created:
            name = d.domain
        elif facts.default.exists or mk.DEFAULT_KEY_NAME in created:
            name = mk.DEFAULT_KEY_NAME
        else:
            continue
        checks.append(acts.VerifyDkimLinks(d.domain, name, domain=d.domain))
    return checks


@dataclass
class DomainResult:
    findings: list[Finding] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    needs_event: bool = False


def assess_domain(d: DomainDkim, facts: DkimFacts) -> DomainResult:
    from smewizard.actions import dkim as acts  # actions import model types; avoid a cycle

    out = DomainResult()
    dom = d.domain
    add = out.findings.append
    active = d.active
    for wrong in d.wrong:
        if wrong.denied:
            add(_f("DKIM026", Status.UNKNOWN, f"Cannot look inside the old DKIM folder {wrong.path}",
                   f"{wrong.denied}. It may hold this domain's key. " + ROOT_HINT, dom))
        elif d.own.exists or not wrong.has_private:
            add(_f("DKIM018", Status.INFO,
                   f"Old DKIM files in {wrong.path} are not used",
                   f"SME v10 reads keys only from {mk.KEYS_DIR}/<domain>/ (guide Part 2). The "
                   "wizard leaves these files alone; archive them once signing is verified.",
                   dom))
        else:
            add(_f("DKIM018", Status.WARN,
                   f"DKIM key for {dom} is in {wrong.path}, a location SME v10 does not read",
                   "Copy it to the canonical location rather than generating a new key, so the "
                   "record already published stays valid; the old folder is archived, not "
                   "deleted (guide Part 2).", dom))
            out.actions.append(acts.MigrateDkimKeys(dom, wrong.path, mk.date_stamp(facts.today),
                                                    wrong.private_name or mk.LINK_PRIVATE,
                                                    domain=dom))
            out.needs_event = True
            active = None  # the migration provides the key; do not also propose a new one
    if any(a for a in out.actions if isinstance(a, acts.MigrateDkimKeys)):
        return out
    if d.links.denied:
        add(_f("DKIM026", Status.UNKNOWN, f"Cannot inspect the template links in {d.links.path}",
               f"{d.links.denied}. What qpsmtpd will sign with is unknown. " + ROOT_HINT, dom))
    if active is None:
        if d.source is Source.UNKNOWN or d.denials:
            if d.source is Source.UNKNOWN:
                add(_f("DKIM026", Status.UNKNOWN, f"Cannot inspect the DKIM keys for {dom}",
                       f"{d.own.denied or facts.default.denied}. " + ROOT_HINT, dom))
            return out
        add(_f("DKIM001", Status.FAIL,
               f"No DKIM key for {dom}: neither {mk.key_dir(dom)}/ nor {mk.key_dir('default')}/",
               SKIP_CAUSE.format(domain=dom) + " Generate a per-domain key (recommended) with "
               "a dated selector, then publish its record.", dom))
        selector = mk.dated_selector(facts.today)
        out.actions.append(acts.GenerateDkimKey(dom, selector, mk.date_stamp(facts.today), domain=dom))
        out.needs_event = True
        return out
    if d.source is Source.DEFAULT:
        add(_f("DKIM002", Status.INFO,
               f"{dom} has no key of its own and falls back to {mk.key_dir('default')}/",
               "The default key signs for every domain without its own directory; a per-domain "
               "key can be rotated or revoked on its own (guide Part 2). Publish the default "
               "key's record under each domain that relies on it.", dom))
    _assess_key_dir(active, dom, facts, out)
    _assess_links(d, facts, out)
    _assess_published(d, out)
    _assess_rotation(d, facts, out)
    outcome = predict(d)
    if outcome is PluginOutcome.SIGN and not out.needs_event:
        add(_f("DKIM029", Status.PASS,
               f"qpsmtpd will sign mail from {dom} with selector "
               f"{mk.plugin_selector(d.links.selector_raw or b'')}",
               "The template links lead to a readable key and a clean selector file; relayed "
               "mail gets `dkim: pass, we signed the message` in the qpsmtpd log.", dom))
    return out


NEW_SELECTOR_FIX = ("The proposed fix keeps the key and writes a new dated selector for it; then "
                    "publish the record shown for that selector. If your DNS already publishes "
                    "this key under a selector, write that name into the file yourself instead "
                    "(one line, no CR) and re-verify.")


def _assess_key_dir(k: KeyDirFacts, dom: str, facts: DkimFacts, out: DomainResult) -> None:
    from smewizard.actions import dkim as acts

    add = out.findings.append
    where = k.path
    if k.denied:
        add(_f("DKIM026", Status.UNKNOWN, f"Cannot read the DKIM files in {where}",
               f"{k.denied}. " + ROOT_HINT, dom))
        return
    check = k.selector
    new_selector = acts.WriteDkimSelector(k.name, mk.dated_selector(facts.today),
                                          domain=_owner_domain(k.name, dom))
    if check is None:
        add(_f("DKIM003", Status.FAIL, f"{where}/selector is missing",
               "Without it the plugin logs an error and signs with a selector no DNS record "
               "matches, so every signature fails (guide Part 2). " + NEW_SELECTOR_FIX, dom))
        if k.key is not None and k.key.ok:
            out.actions.append(new_selector)
            out.needs_event = True
    else:
        _assess_selector(check, where, dom, k.name, out, new_selector if k.key is not None and k.key.ok else None)
    replace = acts.GenerateDkimKey(
        k.name, mk.dated_selector(facts.today, frozenset(filter(None, [selector_of(k)]))),
        mk.date_stamp(facts.today), archive_existing=True, domain=_owner_domain(k.name, dom),
        why="replace an unusable key (the old folder is archived)")
    if k.private_stat is None:
        add(_f("DKIM009", Status.FAIL, f"{where}/default (the private key) is missing",
               SKIP_CAUSE.format(domain=dom) + " SME expects the PEM private key in the file "
               "named `default` (guide Part 2). The proposed fix archives the folder and "
               "generates a new key; its record must then be published.", dom))
        out.actions.append(replace)
        out.needs_event = True
        return
    key = k.key
    if key is None or not key.ok:
        why = key.error if key else ("a directory, not a key file" if k.private_stat.is_dir else "unreadable")
        add(_f("DKIM010", Status.FAIL, f"{where}/default is not a usable key: {why}",
               "qpsmtpd cannot sign with it. The proposed fix archives the folder and generates "
               "a new 2048-bit key.", dom))
        out.actions.append(replace)
        out.needs_event = True
    elif key.bits < mk.WEAK_BITS:
        add(_f("DKIM011", Status.FAIL, f"The DKIM key in {where} has only {key.bits} bits",
               "Verifiers must ignore RSA keys under 1024 bits (RFC 8301). Rotate to a 2048-bit "
               "key.", dom))
    elif key.bits < mk.MIN_BITS:
        add(_f("DKIM011", Status.WARN, f"The DKIM key in {where} has {key.bits} bits",
               "2048 bits is the current recommendation (guide Part 2, RFC 8301); rotate to a "
               "2048-bit key with a new selector.", dom))
    bad_owner = [s for s in (k.dir_stat, k.selector_stat, k.private_stat)
                 if s is not None and not s.is_symlink
                 and (s.owner != mk.KEY_OWNER or s.group != mk.KEY_OWNER)]
    fix_perms = False
    if bad_owner:
        names = ", ".join(f"{s.path} ({s.owner}:{s.group})" for s in bad_owner)
        add(_f("DKIM012", Status.FAIL, f"DKIM files not owned by qpsmtpd:qpsmtpd: {names}",
               "qpsmtpd runs as user qpsmtpd and must be able to read its key (guide Part 2).",
               dom))
        fix_perms = True
    mode = k.private_stat.mode
    if mode != mk.KEY_MODE:
        exposed = bool(mode & 0o077)
        add(_f("DKIM013", Status.FAIL if exposed or not mode & 0o400 else Status.WARN,
               f"{where}/default has mode {mode:04o}, not 0400",
               ("Other accounts on the server can read the private key: anyone who copies it "
                "can sign mail as this domain. " if exposed else "")
               + "The guide's `chmod 400` leaves it readable by its owner only (guide Part 2).",
               dom))
        fix_perms = True
    if fix_perms:
        out.actions.append(acts.FixDkimKeyPermissions(k.name, k.path,
                                                      domain=_owner_domain(k.name, dom)))
        out.needs_event = True


def _assess_selector(check: mk.SelectorCheck, where: str, dom: str, name: str,
                     out: DomainResult, new_selector=None) -> None:
    from smewizard.actions import dkim as acts

    add = out.findings.append
    shown = repr(check.used)
    problems = set(check.problems)
    if mk.SelectorProblem.EMPTY in problems:
        add(_f("DKIM004", Status.FAIL, f"{where}/selector is empty",
               "The plugin would sign with an empty selector (guide Part 2). " + NEW_SELECTOR_FIX, dom))
        if new_selector is not None:
            out.actions.append(new_selector)
            out.needs_event = True
        return
    if mk.SelectorProblem.TRAILING_CR in problems:
        add(_f("DKIM005", Status.FAIL, f"{where}/selector ends with a carriage return ({shown})",
               "The file was written with Windows line endings; qpsmtpd removes only the "
               "newline, so the CR becomes part of the selector and DNS lookups fail.", dom))
    if mk.SelectorProblem.SPACES in problems:
        add(_f("DKIM006", Status.FAIL, f"{where}/selector contains spaces ({shown})",
               "qpsmtpd uses the first line as it is; spaces end up in the DKIM-Signature s= "
               "tag and no record can match.", dom))
    if mk.SelectorProblem.INVALID_LABEL in problems:
        add(_f("DKIM007", Status.FAIL, f"{where}/selector {shown} is not a valid DNS label",
               "A selector is one DNS label: letters, digits and hyphens, at most 63.", dom))
    if mk.SelectorProblem.EXTRA_LINES in problems:
        add(_f("DKIM008", Status.WARN, f"{where}/selector has more than one line",
               "qpsmtpd reads only the first line; keep only the selector in the file.", dom))
    cleaned = check.cleaned.split()[0] if check.cleaned.split() else ""
    if problems and cleaned:
        try:
            selector = validate.dns_label(cleaned)
        except validate.InvalidValue:
            return
        out.actions.append(acts.WriteDkimSelector(name, selector, domain=_owner_domain(name, dom)))
        out.needs_event = True


def _assess_links(d: DomainDkim, facts: DkimFacts, out: DomainResult) -> None:
    add = out.findings.append
    dom, links = d.domain, d.links
    active = d.active
    if active is None or links.denied:
        return
    want_sel, want_key = expected_link_targets(active.path)
    if links.dir_stat is not None and links.dir_stat.is_symlink:
        add(_f("DKIM017", Status.FAIL, f"{links.path} is itself a link",
               "When the domain's folder in qpsmtpd's config is a link, the plugin signs with "
               "d= set to the link target's folder name (a link to `default` signs as "
               "d=default); only the files inside may be links.", dom))
        out.needs_event = True
        return
    if links.dir_stat is None or links.selector_stat is None or links.private_stat is None:
        add(_f("DKIM015", Status.FAIL,
               f"No template links for {dom} in {mk.LINKS_DIR}/",
               SKIP_CAUSE.format(domain=dom) + " `signal-event email-update` creates these "
               "links after keys are added; it has not run since (guide Part 2).", dom))
        out.needs_event = True
        return
    wrong = []
    if links.selector_resolved != want_sel:
        wrong.append(f"selector → {links.selector_resolved or 'nothing'}")
    if links.private_resolved != want_key:
        wrong.append(f"private → {links.private_resolved or 'nothing'}")
    if wrong:
        add(_f("DKIM016", Status.FAIL,
               f"Template links for {dom} point at the wrong files: {', '.join(wrong)}",
               f"They should lead to {want_sel} and {want_key}. Keys changed after the last "
               "`signal-event email-update`; run it again (guide Part 2).", dom))
        out.needs_event = True


def _assess_published(d: DomainDkim, out: DomainResult) -> None:
    add = out.findings.append
    dom, active = d.domain, d.active
    if active is None or active.key is None or not active.key.ok:
        return
    selector = selector_of(active)
    if selector is None:
        return
    proposal = mk.dkim_record(dom, selector, active.key.public_b64, test_mode=True)
    pub = d.published
    if pub is None:
        return
    lookup = pub.lookup
    if lookup.failed:
        add(_f("DKIM020", Status.UNKNOWN, f"Could not look up {pub.name}: {lookup.describe()}",
               "A failed lookup tells nothing about the record; retry later or ask another "
               "server with --nameserver. Nothing is proposed from it.", dom))
        return
    if lookup.absent:
        add(_f("DKIM019", Status.FAIL, f"No DKIM record at {pub.name}",
               "Receivers cannot verify the signatures. Publish the TXT record below at your "
               "DNS provider. It starts in test mode (t=y); remove t=y once the wizard has "
               "verified it (guide Part 2).", dom))
        out.records.append(proposal)
        return
    texts = [t for t in lookup.values if "p=" in t or t.startswith("v=DKIM1")] or list(lookup.values)
    if len(lookup.values) > 1:
        add(_f("DKIM024", Status.WARN, f"{len(lookup.values)} TXT records at {pub.name}",
               "Verifiers may read only one of them (dkimpy reads the first); keep exactly one "
               "DKIM record per selector.", dom))
    parsed = mk.parse_dkim_txt(texts[0])
    if parsed.errors or parsed.revoked:
        reason = "; ".join(parsed.errors) or "p= is empty, which revokes the key"
        add(_f("DKIM023", Status.FAIL, f"The record at {pub.name} is not a usable DKIM key: "
               f"{reason}", "Replace it with the record below.", dom))
        out.records.append(proposal)
        return
    if "n" in parsed.unknown_flags:
        add(_f("DKIM028", Status.WARN, f"The record at {pub.name} has t=n",
               mk.TEST_MODE_NOTE, dom))
    proof = pub.proof
    if proof is None:
        return
    if proof.outcome is mk.ProofOutcome.DNS_FAILED:
        add(_f("DKIM020", Status.UNKNOWN, f"Could not verify {pub.name}: {proof.detail}",
               "A failed lookup tells nothing about the record; nothing is proposed from it.",
               dom))
        return
    if not proof.verified:
        add(_f("DKIM021", Status.FAIL,
               f"The record at {pub.name} does not match the key on the server",
               "A message signed with the server's private key does not verify against the "
               f"published record ({proof.detail}). Replace the record with the one below, "
               "which carries the public half of the key the server signs with.", dom))
        out.records.append(proposal)
        return
    add(_f("DKIM025", Status.PASS, f"{pub.name} verifies a real signature made with the "
           "server's key", "The wizard signed a sample message with the server's private key "
           "and verified it with dkimpy against the record as DNS serves it.", dom))
    if parsed.test_mode:
        if predict(d) is PluginOutcome.SIGN and d.source is not Source.NONE:
            add(_f("DKIM022", Status.WARN, f"{pub.name} is still in test mode (t=y)",
                   mk.TEST_MODE_NOTE + " Signing is verified: publish the record below, the "
                   "same key without t=y.", dom))
            out.records.append(mk.dkim_record(dom, selector, active.key.public_b64))
        else:
            add(_f("DKIM022", Status.INFO, f"{pub.name} is in test mode (t=y)",
                   mk.TEST_MODE_NOTE + " Keep it until the server really signs, then remove it.",
                   dom))


def rotation_of(d: DomainDkim) -> mk.Rotation | None:
    """The rotation in progress for a domain's key, if any."""
    active = d.active
    selector = selector_of(active)
    if selector is None:
        return None
    if d.staged is not None:
        staged_sel = selector_of(d.staged)
        pub = d.staged_published
        return mk.Rotation(
            old_selector=selector,
            new_selector=staged_sel,
            new_published=bool(pub and pub.lookup.ok),
            new_verified=bool(pub and pub.proof and pub.proof.verified),
            switched=False,
            old_published=bool(d.published and d.published.lookup.ok),
        )
    if d.retired_selector and d.retired_selector != selector:
        return mk.Rotation(
            old_selector=d.retired_selector,
            new_selector=selector,
            new_published=bool(d.published and d.published.lookup.ok),
            new_verified=bool(d.published and d.published.proof and d.published.proof.verified),
            switched=True,
            old_published=bool(d.retired_published and d.retired_published.lookup.ok),
        )
    return None


def _assess_rotation(d: DomainDkim, facts: DkimFacts, out: DomainResult) -> None:
    from smewizard.actions import dkim as acts

    rotation = rotation_of(d)
    if rotation is None:
        return
    stage = rotation.next_stage
    dom = d.domain
    name = d.active.name if d.active else dom
    if stage is None:
        return
    out.findings.append(_f(
        "DKIM027", Status.INFO,
        f"Key rotation for {dom}: next, {mk.ROTATION_TEXT[stage].lower()}",
        "Rotation publishes the new selector next to the old one, switches signing only once "
        "the new record verifies, and keeps the old record until mail signed with it has been "
        "delivered (guide Part 2, dated selectors).", dom))
    staged = d.staged
    if stage in (mk.RotationStage.PUBLISH_NEW, mk.RotationStage.VERIFY_NEW) and staged and \
            staged.key and staged.key.ok and rotation.new_selector:
        out.records.append(mk.dkim_record(dom, rotation.new_selector, staged.key.public_b64))
    if stage is mk.RotationStage.SWITCH:
        out.actions.append(acts.ActivateStagedDkimKey(name, mk.date_stamp(facts.today), domain=_owner_domain(name, dom)))
        out.needs_event = True


def _owner_domain(name: str, dom: str) -> str | None:
    """Actions on the shared default key belong to no single domain (so they appear once)."""
    return None if name == mk.DEFAULT_KEY_NAME else dom


def rotation_start(d: DomainDkim, today: date, selector: str | None = None) -> list[Action]:
    """The first rotation stage, offered by the screen: a new key under a new dated selector
    in the staged folder, not signing until the switch."""
    from smewizard.actions import dkim as acts

    active = d.active
    if active is None or d.staged is not None:
        return []
    taken = {s for s in (selector_of(active), d.retired_selector) if s}
    selector = selector or mk.dated_selector(today, frozenset(taken))
    return [acts.GenerateDkimKey(active.name, selector, mk.date_stamp(today), staged=True,
                                 domain=_owner_domain(active.name, d.domain))]


def generate_for(domain: str, today: date, selector: str | None = None,
                 *, replace: bool = False) -> list[Action]:
    """A per-domain key with a dated (or the admin's) selector, then email-update."""
    from smewizard.actions import dkim as acts

    selector = selector or mk.dated_selector(today)
    return [acts.GenerateDkimKey(domain, selector, mk.date_stamp(today), archive_existing=replace,
                                 domain=domain),
            SignalEvent("email-update", step=STEP_KEY)]


# ------------------------------------------------------------------------------- step
@dataclass(frozen=True)
class DkimStep:
    key: str = STEP_KEY
    title: str = "DKIM"
    parts: tuple[str, ...] = (PART,)

    async def probe(self, ctx: Context, server: ServerFacts) -> DkimFacts:
        return await probe(ctx, server)

    def assess(self, facts: DkimFacts) -> Assessment:
        return assess(facts)


STEP = DkimStep()
