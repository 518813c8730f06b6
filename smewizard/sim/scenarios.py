"""Named scenarios: each builds a realistic SME v10 server with a known set of problems.

Every scenario uses documentation addresses (RFC 5737: 203.0.113.0/24 for the server,
198.51.100.0/24 for the ISP relay) and names under example.* / *.example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smewizard.sim.builder import RootBuilder


class UnknownScenario(ValueError):
    """The scenario name is not in SCENARIOS."""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[..., None]


PUBLIC_IP = "203.0.113.10"
RELAY_HOST = "relay.isp.example"
RELAY_IP = "198.51.100.25"
GENERIC_PTR = "static-203-0-113-10.cust.provider.example"


# ---------------------------------------------------------------- shared traffic
def _traffic(b: RootBuilder, dkim_line: Callable[[str], str], *, hook: str = "data_post") -> None:
    """A morning of mail in the qpsmtpd and qmail logs: inbound, authenticated outbound per
    hosted domain (with the dkim plugin's verdict), and qmail deliveries."""
    domains = sorted(b.dbs["domains"])
    users = b.users or ["admin"]
    pid = 21400
    msg = 4412330
    for i, domain in enumerate(domains):
        user = users[i % len(users)]
        pid += 7
        b.log_qpsmtpd(f"{pid} Accepted connection 0/40 from 192.168.1.{20 + i} / ws{i}.{domain}")
        b.log_qpsmtpd(f"{pid} Connection from ws{i}.{domain} [192.168.1.{20 + i}]")
        b.log_qpsmtpd(
            f"{pid} (auth::auth_cvm_unix_local) auth_cvm_unix_local: Authentication success for {user}"
        )
        b.log_qpsmtpd(f"{pid} ({hook}) dkim: {dkim_line(domain)}")
        b.log_qpsmtpd(f"{pid} (queue) queue::qmail_2dqueue: Queued!")
        b.log_qpsmtpd(
            f"{pid} (deny) logging::logterse: ` 192.168.1.{20 + i}\tws{i}.{domain}\tws{i}.{domain}"
            f"\t<{user}@{domain}>\t<someone@gmail.example>\tqueue\t250\tQueued! 1764030000 qp {pid + 1}"
        )
        msg += 3
        b.log_qmail(f"new msg {msg}")
        b.log_qmail(f"info msg {msg}: bytes 3842 from <{user}@{domain}> qp {pid + 1} uid 453")
        b.log_qmail(f"starting delivery {i + 1}: msg {msg} to remote someone@gmail.example")
        b.log_qmail(
            f"delivery {i + 1}: success: 198.51.100.25_accepted_message./Remote_host_said:_250_OK/"
        )
        b.log_qmail(f"end msg {msg}")
    pid += 11
    b.log_qpsmtpd(f"{pid} Accepted connection 0/40 from 192.0.2.77 / mx.sender.example")
    b.log_qpsmtpd(f"{pid} (rcpt) dnsbl: pass")
    b.log_qpsmtpd(f"{pid} ({hook}) dkim: pass")
    b.log_qpsmtpd(f"{pid} (data_post) spamassassin: pass, Ham, -1.2 < 100")


def _double_bounce(b: RootBuilder, target: str) -> None:
    b.log_qmail("new msg 4412399")
    b.log_qmail("info msg 4412399: bytes 2210 from <> qp 21510 uid 405")
    b.log_qmail(f"starting delivery 40: msg 4412399 to local {target}")
    b.log_qmail("delivery 40: success: did_0+0+1/")
    b.log_qmail("end msg 4412399")


def _no_dkim(domain: str) -> str:
    return f"skip, DKIM not configured for {domain}"


# ---------------------------------------------------------------- demo
def build_demo(b: RootBuilder) -> None:
    b.base(
        domain="example.com",
        public_ip=PUBLIC_IP,
        relay_host=RELAY_HOST,
        relay_ip=RELAY_IP,
        ptr=GENERIC_PTR,
    )
    com = b.zone("example.com")
    com.txt("@", f"v=spf1 mx a ip4:{PUBLIC_IP} ~all")  # relay IP missing
    com.txt("_dmarc", "v=DMARC1; p=none")  # no rua: nobody sees reports
    org = b.add_domain("example.org")
    org.txt("@", "v=spf1 a mx ptr ~all")  # deprecated ptr mechanism
    b.add_domain("shop.example.net")  # no SPF at all
    # shop.example.net's organisational domain: without a zone for it the DMARC policy
    # discovery (RFC 7489 6.6.3) got REFUSED and the demo showed "unknown" for the shop.
    b.zone("example.net")
    for user, first, last in (
        ("alice", "Alice", "Archer"),
        ("bob", "Bob", "Baker"),
        ("carol", "Carol", "Cole"),
    ):
        b.add_user(user, first, last)
    b.chown("/home/e-smith/files/users/carol/Maildir/.junkmail/tmp", "root")
    # example.com: key in an old-docs location, its public half published.
    pair = b.dkim_key(
        "/etc/qpsmtpd/dkim/example.com",
        "demo-example.com",
        selector_text="feb2026\n",
        key_name="private",
    )
    b.publish_dkim("example.com", "feb2026", pair)
    # example.org: canonical location, but the selector file was written on Windows (CR LF).
    pair = b.dkim_key(
        "/home/e-smith/dkim_keys/example.org", "demo-example.org", selector_text="default\r\n"
    )
    b.publish_dkim("example.org", "default", pair, "t=y")
    # DKIMSigning stays disabled (base), HeloHost and DoubleBounceTo unset.
    _traffic(b, _no_dkim)
    _double_bounce(b, "postmaster@example.com")


# ---------------------------------------------------------------- fresh
def build_fresh(b: RootBuilder) -> None:
    b.base(domain="example.com", public_ip=PUBLIC_IP, ptr=GENERIC_PTR, gateway=False)
    b.add_user("alice", "Alice", "Archer")
    _traffic(b, _no_dkim)


# ---------------------------------------------------------------- good
def build_good(b: RootBuilder) -> None:
    fqdn = "mail.example.com"
    b.bayes = {"nspam": 2400, "nham": 5200, "ntokens": 180_000}
    b.base(
        domain="example.com",
        public_ip=PUBLIC_IP,
        relay_host=RELAY_HOST,
        relay_ip=RELAY_IP,
        ptr=fqdn,
    )
    b.add_domain("example.org")
    for user, first, last in (("alice", "Alice", "Archer"), ("bob", "Bob", "Baker")):
        b.add_user(user, first, last)
    b.pseudonym("dmarc-feedback", "admin")
    b.write("/var/qmail/alias/.qmail-dmarc-feedback", "&admin\n")
    for domain, selector in (("example.com", "mar2026"), ("example.org", "mar2026")):
        z = b.zone(domain)
        z.txt("@", f"v=spf1 mx ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all")
        z.txt("_dmarc", f"v=DMARC1; p=reject; adkim=s; aspf=r; rua=mailto:dmarc-feedback@{domain}")
        pair = b.dkim_key(
            f"/home/e-smith/dkim_keys/{domain}", f"good-{domain}", selector_text=selector + "\n"
        )
        b.publish_dkim(domain, selector, pair)
    b.setprop("configuration", "qpsmtpd", DKIMSigning="enabled", HeloHost=fqdn)
    b.setprop("configuration", "qmail", DoubleBounceTo="devnull")
    # SME applies TagLevel/RejectLevel only with Sensitivity custom (docs/sme-v10.md, SA003).
    b.setprop("configuration", "spamassassin", Sensitivity="custom", TagLevel="3.3", RejectLevel="12")
    _traffic(b, lambda d: "pass, we signed the message", hook="data_post_headers")


# ---------------------------------------------------------------- spf-problems
def build_spf_problems(b: RootBuilder) -> None:
    b.base(
        domain="example.com",
        public_ip=PUBLIC_IP,
        relay_host=RELAY_HOST,
        relay_ip=RELAY_IP,
        ptr="mail.example.com",
    )
    com = b.zone("example.com")
    com.txt("@", f"v=spf1 mx ip4:{PUBLIC_IP} ~all")
    com.txt("@", f"v=spf1 ip4:{PUBLIC_IP} ip4:{RELAY_IP} -all")  # two SPF records: permerror
    com.add("@", "SPF", '"v=spf1 mx -all"')  # obsolete RR type 99
    b.add_domain("example.org").txt("@", "v=spf1 +all")
    net = b.add_domain("example.net")
    includes = [f"include:_spf{i}.example.net" for i in range(1, 7)]
    net.txt("@", "v=spf1 " + " ".join(includes) + " ~all")  # 6 includes + 12 a/mx = 18 lookups
    for i in range(1, 7):
        net.txt(f"_spf{i}", f"v=spf1 a mx ip4:198.51.100.{100 + i} ~all")
    info = b.add_domain("example.info")
    info.txt(
        "@",
        "v=spf1 a:gone1.example.info a:gone2.example.info mx:gone3.example.info "
        f"ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all",
    )  # three void lookups (limit is two)
    b.add_user("alice", "Alice", "Archer")
    _traffic(b, _no_dkim)


# ---------------------------------------------------------------- dkim-default-key
def build_dkim_default_key(b: RootBuilder) -> None:
    fqdn = "mail.example.com"
    b.base(
        domain="example.com",
        public_ip=PUBLIC_IP,
        relay_host=RELAY_HOST,
        relay_ip=RELAY_IP,
        ptr=fqdn,
    )
    b.add_domain("example.org")
    b.add_user("alice", "Alice", "Archer")
    pair = b.dkim_key("/home/e-smith/dkim_keys/default", "default-key", selector_text="default\n")
    for domain in ("example.com", "example.org"):
        z = b.zone(domain)
        z.txt("@", f"v=spf1 mx ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all")
        b.publish_dkim(domain, "default", pair, "t=y")
    b.setprop("configuration", "qpsmtpd", DKIMSigning="enabled")
    _traffic(b, lambda d: f"info, using {d} key for {d}", hook="data_post_headers")


# ---------------------------------------------------------------- dkim-linked-dir
def build_dkim_linked_dir(b: RootBuilder) -> None:
    build_dkim_default_key(b)

    def link_domain_dir(b: RootBuilder) -> None:
        # An admin "fixed" example.org by hand: the domain directory itself is a link to the
        # default key folder, so the upstream plugin signs with d=default (sme-facts.md hazard).
        target = b.path("/var/service/qpsmtpd/config/dkim/example.org")
        for child in target.iterdir():
            child.unlink()
        target.rmdir()
        target.symlink_to(b.path("/home/e-smith/dkim_keys/default"))

    b.after_event.append(link_domain_dir)


# ---------------------------------------------------------------- dns-timeout
def build_dns_timeout(b: RootBuilder) -> None:
    b.base(
        domain="example.com",
        public_ip=PUBLIC_IP,
        relay_host=RELAY_HOST,
        relay_ip=RELAY_IP,
        ptr="mail.example.com",
    )
    b.zone("example.com").txt("@", f"v=spf1 mx ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all")
    b.add_domain("example.org").txt("@", f"v=spf1 ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all")
    b.add_user("alice", "Alice", "Archer")
    b.fail("example.org", "timeout")  # its SPF cannot be read: must be "unknown", not "missing"
    b.fail("_dmarc.example.com", "servfail")
    origin, label = _reverse(PUBLIC_IP)
    b.fail(f"{label}.{origin}", "timeout")
    _traffic(b, _no_dkim)


def _reverse(ip: str) -> tuple[str, str]:
    from smewizard.sim.zones import reverse_zone_of

    return reverse_zone_of(ip)


# ---------------------------------------------------------------- many-domains / many-users
def build_many_domains(b: RootBuilder, size: int = 50) -> None:
    b.base(
        domain="example.com",
        public_ip=PUBLIC_IP,
        relay_host=RELAY_HOST,
        relay_ip=RELAY_IP,
        ptr="mail.example.com",
    )
    b.zone("example.com").txt("@", f"v=spf1 mx ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all")
    for i in range(1, size):
        z = b.add_domain(f"d{i:03d}.example")
        kind = i % 5
        if kind == 0:
            continue  # no SPF
        if kind == 1:
            z.txt("@", f"v=spf1 ip4:{PUBLIC_IP} ~all")  # relay missing
        elif kind == 2:
            z.txt("@", "v=spf1 a mx ptr ~all")
        elif kind == 3:
            z.txt("@", "v=spf1 include:_spf.example.com ~all")
        else:
            z.txt("@", f"v=spf1 mx ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all")
    b.zone("example.com").txt("_spf", f"v=spf1 ip4:{PUBLIC_IP} ip4:{RELAY_IP} ~all")
    b.add_user("alice", "Alice", "Archer")
    _traffic(b, _no_dkim)


def build_many_users(b: RootBuilder, size: int = 2000) -> None:
    b.base(
        domain="example.com",
        public_ip=PUBLIC_IP,
        relay_host=RELAY_HOST,
        relay_ip=RELAY_IP,
        ptr="mail.example.com",
    )
    for i in range(size):
        b.add_user(f"user{i:04d}", "User", f"{i:04d}")
    for i in range(0, size, 97):  # every 97th user's junkmail tmp is root-owned
        b.chown(f"/home/e-smith/files/users/user{i:04d}/Maildir/.junkmail/tmp", "root")
    _traffic(b, _no_dkim)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "demo",
            "Three hosted domains (example.com, example.org, shop.example.net) with "
            "typical problems: SPF without the relay IP, a `ptr` mechanism, a domain with no "
            "SPF; one DKIM key in /etc/qpsmtpd/dkim, a selector file with a trailing CR, "
            "DKIMSigning disabled; DMARC p=none without rua; a generic PTR; HeloHost and "
            "DoubleBounceTo unset; carol's junkmail tmp owned by root.",
            build_demo,
        ),
        Scenario(
            "fresh",
            "A fresh install in server-only mode behind NAT (no ExternalIP: the public IP is "
            "known only from DNS): one domain, no SPF, DKIM, DMARC or smarthost, generic PTR.",
            build_fresh,
        ),
        Scenario(
            "good",
            "Everything right: SPF with server and relay, per-domain DKIM keys "
            "(qpsmtpd, 0400) published and linked, DKIMSigning enabled, DMARC p=reject with "
            "rua to the dmarc-feedback pseudonym, PTR = FQDN = HeloHost with A back, "
            "DoubleBounceTo devnull, junkmail ownership right.",
            build_good,
        ),
        Scenario(
            "spf-problems",
            "SPF trouble: two SPF records and an obsolete SPF RR "
            "(example.com), +all (example.org), 18 DNS lookups via includes (example.net), "
            "three void lookups (example.info).",
            build_spf_problems,
        ),
        Scenario(
            "dkim-default-key",
            "Only the server-wide key in dkim_keys/default/, published "
            "for both domains, DKIMSigning enabled.",
            build_dkim_default_key,
        ),
        Scenario(
            "dkim-linked-dir",
            "As dkim-default-key, but after the last email-update an admin replaced "
            "config/dkim/example.org with a link to dkim_keys/default: qpsmtpd would sign "
            "example.org mail as d=default. The next email-update repairs it.",
            build_dkim_linked_dir,
        ),
        Scenario(
            "dns-timeout",
            "Good SPF records, but example.org times out, _dmarc.example.com "
            "answers SERVFAIL and the public IP's PTR times out.",
            build_dns_timeout,
        ),
        Scenario(
            "many-domains",
            "50 hosted domains (size=N to change) with a mix of SPF states, for benchmarks.",
            build_many_domains,
        ),
        Scenario(
            "many-users",
            "2,000 users (size=N to change); every 97th has a root-owned "
            "junkmail tmp; for the junkmail benchmark.",
            build_many_users,
        ),
    )
}
