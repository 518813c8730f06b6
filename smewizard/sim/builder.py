"""Build a simulated SME Server v10 root directory for one scenario.

`build_root(path, scenario)` writes a tree like a fresh SME v10 install (dbs in the real on-disk
format, /etc/passwd and /etc/group, qpsmtpd and qmail config, Maildirs, multilog logs) plus the
scenario's hosted domains, users, keys and problems, installs SME's programs as shims under
<root>/sbin/e-smith, runs the simulated `signal-event email-update` once (as an admin would
have), and returns a `SimServer` describing it, including the zone data DNS should serve.

Ownership: run as root (CI does), every file gets SME's owner (users own their Maildirs, keys are
qpsmtpd's). Run as anyone else, chown is impossible: files keep the builder's uid and
`SimServer.ownership_applied` is False, so tests that check owners must skip.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smewizard.host.local import LocalHost
from smewizard.sim import events
from smewizard.sim.dbfile import write_db_file
from smewizard.sim.keys import KeyPair, keypair, write_private_key
from smewizard.sim.multilog import multilog_text
from smewizard.sim.salearn import install_sa_learn
from smewizard.sim.zones import Zone, reverse_zone_of
from smewizard.sme.db import DbRecord

if TYPE_CHECKING:
    from smewizard.dns.authserver import AuthServer

FIRST_USER_UID = 5001

# SME v10 system accounts (names verified as SME's; numbers are plausible, not SME's own).
SYSTEM_ACCOUNTS: dict[str, int] = {
    "root": 0,
    "admin": 101,
    "www": 102,
    "alias": 400,
    "qmaild": 401,
    "qmaill": 402,
    "qmailp": 403,
    "qmailq": 404,
    "qmailr": 405,
    "qmails": 406,
    "smtpd": 451,
    "qpsmtpd": 453,
    "cvmlog": 454,
}
_HOMES = {"root": "/root", "admin": "/home/e-smith", "alias": "/var/qmail/alias"}


@dataclass(frozen=True)
class SimServer:
    """A built simulated server: where it is and what DNS should say about it."""

    root: Path
    scenario: str
    description: str
    public_ip: str
    relay_ip: str | None
    relay_host: str | None
    domains: tuple[str, ...]
    users: tuple[str, ...]
    zones: dict[str, str] = field(default_factory=dict)
    dns_failures: dict[str, str] = field(default_factory=dict)
    ownership_applied: bool = True

    def host(self) -> LocalHost:
        return LocalHost(self.root)

    def serve(self, auth_server: AuthServer) -> None:
        """Load this scenario's zones and failure rules into an AuthServer."""
        for origin, text in self.zones.items():
            auth_server.add_zone_text(origin, text)
        for name, kind in self.dns_failures.items():
            auth_server.set_failure(name, kind)


class RootBuilder:
    """The mutable workspace a scenario function fills in; `finish()` writes it out."""

    def __init__(self, root: Path, scenario: str, uid_map: dict[str, int] | None = None):
        self.root = root
        self.scenario = scenario
        self.description = ""
        self.privileged = os.geteuid() == 0
        self.ids: dict[str, int] = dict(SYSTEM_ACCOUNTS)
        self.uid_map = dict(uid_map or {})
        self.dbs: dict[str, dict[str, DbRecord]] = {
            n: {} for n in ("configuration", "domains", "accounts", "hosts", "networks")
        }
        self.users: list[str] = []
        self.zones: dict[str, Zone] = {}
        self.dns_failures: dict[str, str] = {}
        self.public_ip = "203.0.113.10"
        self.relay_ip: str | None = None
        self.relay_host: str | None = None
        self.qpsmtpd_log: list[str] = []
        self.qmail_log: list[str] = []
        self.now = time.time()
        self.ids.update(self.uid_map)
        self._move_colliding_ids()
        self.after_event: list[Callable[[RootBuilder], None]] = []
        # SpamAssassin's Bayes db as `sa-learn --dump magic` reports it; None = never trained
        self.bayes: dict[str, int] | None = None

    def _move_colliding_ids(self) -> None:
        """An overridden uid (e.g. Debian's real qpsmtpd uid) must not be shared with another
        simulated account: names are looked up by uid, so move the other one to a free uid."""
        taken = set(self.uid_map.values())
        free = (n for n in range(900, 1000) if n not in taken and n not in self.ids.values())
        for name, uid in list(self.ids.items()):
            if name not in self.uid_map and uid in taken:
                self.ids[name] = next(free)

    # ------------------------------------------------------------ paths and ownership
    def path(self, sme_path: str) -> Path:
        return self.root / sme_path.lstrip("/")

    def uid(self, name: str) -> int:
        return self.ids[name]

    def chown(self, sme_path: str, owner: str, group: str | None = None) -> None:
        if self.privileged:
            os.lchown(self.path(sme_path), self.uid(owner), self.uid(group or owner))

    def mkdir(
        self, sme_path: str, mode: int = 0o755, owner: str = "root", group: str | None = None
    ) -> None:
        p = self.path(sme_path)
        p.mkdir(parents=True, exist_ok=True)
        os.chmod(p, mode)
        self.chown(sme_path, owner, group)

    def write(
        self,
        sme_path: str,
        text: str | bytes,
        mode: int = 0o644,
        owner: str = "root",
        group: str | None = None,
    ) -> None:
        p = self.path(sme_path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        os.chmod(p, mode)
        self.chown(sme_path, owner, group)

    # ------------------------------------------------------------ db records
    def record(self, db: str, key: str, rtype: str, **props: str) -> None:
        self.dbs[db][key] = DbRecord(key=key, type=rtype, props=dict(props))

    def setprop(self, db: str, key: str, **props: str) -> None:
        old = self.dbs[db][key]
        self.dbs[db][key] = DbRecord(key=key, type=old.type, props={**old.props, **props})

    def delprop(self, db: str, key: str, *names: str) -> None:
        old = self.dbs[db][key]
        self.dbs[db][key] = DbRecord(
            key=key, type=old.type, props={k: v for k, v in old.props.items() if k not in names}
        )

    # ------------------------------------------------------------ the server
    def base(
        self,
        *,
        domain: str,
        system_name: str = "mail",
        public_ip: str = "203.0.113.10",
        relay_host: str | None = None,
        relay_ip: str | None = None,
        ptr: str | None = None,
        gateway: bool = True,
    ) -> None:
        """A fresh SME v10, in server-gateway mode (ExternalIP set) or, with gateway=False,
        server-only mode behind NAT (no ExternalIP: the public IP is only known from DNS):
        configuration defaults, the primary domain, its zone (MX, A), the relay's zone and the
        reverse zone of the public IP."""
        self.public_ip, self.relay_host, self.relay_ip = public_ip, relay_host, relay_ip
        fqdn = f"{system_name}.{domain}"
        c = "configuration"
        self.record(c, "DomainName", domain)
        self.record(c, "SystemName", system_name)
        if gateway:
            self.record(c, "SystemMode", "servergateway")
            self.record(c, "ExternalIP", public_ip)
            self.record(c, "ExternalNetmask", "255.255.255.0")
        else:
            self.record(c, "SystemMode", "serveronly")
            self.record(c, "GatewayIP", "192.168.1.254")
        self.record(c, "LocalIP", "192.168.1.1")
        self.record(c, "LocalNetmask", "255.255.255.0")
        self.record(c, "TimeZone", "UTC")
        self.record(
            c, "sysconfig", "configuration", ReleaseVersion="10.1", ProductName="SME Server"
        )
        if relay_host:
            self.record(c, "SMTPSmartHost", relay_host)
        self.record(
            c,
            "qpsmtpd",
            "service",
            DKIMSigning="disabled",
            RBLList="zen.spamhaus.org",
            Bcc="disabled",
            MaxScannerSize="25000000",
            TCPPort="25",
            access="public",
            status="enabled",
            LogLevel="6",
        )
        self.record(c, "sqpsmtpd", "service", TCPPort="465", access="public", status="enabled")
        self.record(c, "uqpsmtpd", "service", TCPPort="587", access="public", status="enabled")
        self.record(
            c,
            "qmail",
            "service",
            DelegateMailServer="",
            EmailUnknownUser="bounce",
            MaxMessageSize="15000000",
            status="enabled",
        )
        self.record(c, "smtpd", "service", status="enabled")
        self.record(
            c,
            "spamassassin",
            "service",
            RejectLevel="0",
            Sensitivity="medium",
            SortSpam="enabled",
            TagLevel="5",
            status="enabled",
        )
        self.record(c, "clamd", "service", status="enabled")
        self.record(
            "domains",
            domain,
            "domain",
            Content="Primary",
            Description="Primary domain",
            Nameservers="internal",
            Removable="no",
            SystemPrimaryDomain="yes",
        )
        self.record(
            "accounts",
            "admin",
            "system",
            FirstName="Local",
            LastName="Administrator",
            Uid=str(self.uid("admin")),
            Gid=str(self.uid("admin")),
            PasswordSet="yes",
        )
        for name in ("shared", "Primary"):
            self.record("accounts", name, "system" if name == "shared" else "ibay")
        self.record("networks", "192.168.1.0", "network", Mask="255.255.255.0", Router="")
        self.record(
            "hosts",
            f"{system_name}.{domain}",
            "host",
            HostType="Self",
            ExternalIP="",
            InternalIP="",
        )
        self.write("/etc/hostname", fqdn + "\n")
        z = self.zone(domain)
        z.add("@", "MX", f"10 {fqdn}.")
        z.add(system_name, "A", public_ip)
        self.set_ptr(public_ip, ptr or fqdn)
        if relay_host and relay_ip:
            rz = self.zone(relay_host.split(".", 1)[1])
            rz.add(relay_host.split(".", 1)[0], "A", relay_ip)
            # the ISP serves the relay's reverse zone: without it a `ptr` SPF check of the relay
            # would be REFUSED by the demo DNS instead of answered
            self.set_ptr(relay_ip, relay_host, with_a=False)

    def add_domain(self, name: str, *, mx_to_primary: bool = True) -> Zone:
        self.record(
            "domains",
            name,
            "domain",
            Content="Primary",
            Description=name,
            Nameservers="internal",
            Removable="yes",
        )
        z = self.zone(name)
        if mx_to_primary:
            primary = self.dbs["configuration"]["DomainName"].type
            system = self.dbs["configuration"]["SystemName"].type
            z.add("@", "MX", f"10 {system}.{primary}.")
        return z

    def add_user(self, name: str, first: str, last: str) -> None:
        uid = FIRST_USER_UID + len(self.users)
        uid = self.uid_map.get(name, uid)
        self.ids[name] = uid
        self.users.append(name)
        self.record(
            "accounts",
            name,
            "user",
            FirstName=first,
            LastName=last,
            Uid=str(uid),
            Gid=str(uid),
            PasswordSet="yes",
            ForwardAddress="",
            EmailForward="local",
        )
        home = f"/home/e-smith/files/users/{name}"
        self.mkdir(home, 0o700, name)
        self.mkdir(home + "/Maildir", 0o700, name)
        for sub in (
            "cur",
            "new",
            "tmp",
            ".junkmail",
            ".junkmail/cur",
            ".junkmail/new",
            ".junkmail/tmp",
        ):
            self.mkdir(f"{home}/Maildir/{sub}", 0o700, name)
        self.write(
            home + "/.qmail",
            "|/usr/bin/condredirect "
            + name
            + "-junkmail headermatch 'X-Spam-Status: Yes'\n./Maildir/\n",
            0o644,
            name,
        )
        self.write(home + "/.qmail-junkmail", "./Maildir/.junkmail/\n", 0o644, name)

    def pseudonym(self, name: str, account: str) -> None:
        self.record("accounts", name, "pseudonym", Account=account, Visible="internal")

    # ------------------------------------------------------------ DNS
    def zone(self, origin: str) -> Zone:
        origin = origin.lower().rstrip(".")
        if origin not in self.zones:
            self.zones[origin] = Zone(origin)
        return self.zones[origin]

    def set_ptr(self, ip: str, name: str, *, with_a: bool = True) -> None:
        origin, label = reverse_zone_of(ip)
        self.zone(origin).add(label, "PTR", name.rstrip(".") + ".")
        if with_a and not self._owns_name(name):
            apex = name.split(".", 1)[1]
            self.zone(apex).add(name.split(".", 1)[0], "A", ip)

    def _owns_name(self, name: str) -> bool:
        apex, label = name.split(".", 1)[1], name.split(".", 1)[0]
        z = self.zones.get(apex)
        return bool(
            z and any(line.startswith(label + "\t") and "\tA\t" in line for line in z.lines)
        )

    def fail(self, name: str, kind: str) -> None:
        self.dns_failures[name.lower().rstrip(".")] = kind

    # ------------------------------------------------------------ DKIM
    def dkim_key(
        self,
        sme_dir: str,
        label: str,
        *,
        selector_text: str | None,
        owner: str = "qpsmtpd",
        key_name: str = "default",
    ) -> KeyPair:
        """Put a key pair's private half in `<sme_dir>/<key_name>` (0400 from the first byte)
        and, unless selector_text is None, a `selector` file with exactly that text."""
        pair = keypair(label)
        self.mkdir(sme_dir, 0o750, owner)
        if selector_text is not None:
            self.write(f"{sme_dir}/selector", selector_text, 0o644, owner)
        write_private_key(
            str(self.path(f"{sme_dir}/{key_name}")),
            pair.private_pem,
            self.uid(owner),
            self.uid(owner),
            chown=self.privileged,
        )
        return pair

    def publish_dkim(self, domain: str, selector: str, pair: KeyPair, *tags: str) -> None:
        self.zone(domain).txt(f"{selector}._domainkey", pair.dkim_record(*tags))

    # ------------------------------------------------------------ logs
    def log_qpsmtpd(self, line: str) -> None:
        self.qpsmtpd_log.append(line)

    def log_qmail(self, line: str) -> None:
        self.qmail_log.append(line)

    # ------------------------------------------------------------ writing it out
    def finish(self) -> SimServer:
        self._write_accounts_files()
        self._write_skeleton()
        for name, records in self.dbs.items():
            write_db_file(self.path(f"/home/e-smith/db/{name}"), records, now=self.now)
            os.chmod(self.path(f"/home/e-smith/db/{name}"), 0o640)
            self.chown(f"/home/e-smith/db/{name}", "root", "admin")
        self._write_logs()
        install_shims(self.root)
        install_sa_learn(self.root, **(self.bayes or {}))
        events.signal_event(self.root, "email-update")
        for change in self.after_event:  # what an admin did by hand after the last event
            change(self)
        self._configured_before_the_logs()
        return SimServer(
            root=self.root,
            scenario=self.scenario,
            description=self.description,
            public_ip=self.public_ip,
            relay_ip=self.relay_ip,
            relay_host=self.relay_host,
            domains=tuple(events.hosted_domains(self.root)),
            users=tuple(self.users),
            zones={origin: z.text() for origin, z in self.zones.items()},
            dns_failures=dict(self.dns_failures),
            ownership_applied=self.privileged,
        )

    def _configured_before_the_logs(self) -> None:
        """The logs cover the last hour; the server's DKIM keys, links and plugins list were set
        up before it (as on a running server), so its log lines are evidence of the current
        configuration (the Test & logs step ignores lines older than a configuration change)."""
        when = self.now - 3600 - 60
        for top in ("/var/service/qpsmtpd/config", "/home/e-smith/dkim_keys"):
            for dirpath, dirnames, filenames in os.walk(self.path(top)):
                for name in dirnames + filenames:
                    os.utime(os.path.join(dirpath, name), (when, when), follow_symlinks=False)
                os.utime(dirpath, (when, when))

    def _write_accounts_files(self) -> None:
        passwd, group = [], []
        for name, uid in sorted(self.ids.items(), key=lambda kv: kv[1]):
            home = _HOMES.get(
                name, f"/home/e-smith/files/users/{name}" if name in self.users else "/var/empty"
            )
            shell = (
                "/bin/bash"
                if name == "root"
                else "/usr/bin/rssh"
                if name in self.users
                else "/sbin/nologin"
            )
            passwd.append(f"{name}:x:{uid}:{uid}:{name}:{home}:{shell}")
            group.append(f"{name}:x:{uid}:")
        self.write("/etc/passwd", "\n".join(passwd) + "\n")
        self.write("/etc/group", "\n".join(group) + "\n")

    def _write_skeleton(self) -> None:
        for d in (
            "/home/e-smith/db",
            "/home/e-smith/files/users",
            "/var/qmail/control",
            "/var/qmail/alias",
            "/var/log/qpsmtpd",
            "/var/log/qmail",
            "/etc/mail/spamassassin",
            "/var/service/qpsmtpd/config/dkim",
            "/sbin/e-smith",
        ):
            self.mkdir(d)
        self.mkdir("/home/e-smith/dkim_keys", 0o755, "qpsmtpd")
        self.write(
            "/var/qmail/control/rcpthosts", "".join(d + "\n" for d in sorted(self.dbs["domains"]))
        )
        self.write("/var/qmail/control/locals", "localhost\n")
        if self.relay_host:
            self.write("/var/qmail/control/smtproutes", f":{self.relay_host}\n")
        self.write("/var/qmail/control/badmailfrom", "")
        self.write("/var/qmail/alias/.qmail-postmaster", "&admin\n")
        self.write("/var/qmail/alias/.qmail-root", "&admin\n")
        self.write("/var/service/qpsmtpd/config/loglevel", "6\n")
        self.write("/var/service/qpsmtpd/config/dnsbl_zones", "zen.spamhaus.org\n")
        self.write("/var/service/qpsmtpd/config/badmailfrom", "")
        self.write("/etc/mail/spamassassin/local.cf", "required_score 4.99\n")

    def _write_logs(self) -> None:
        start = self.now - 3600
        step = 3600 / max(1, len(self.qpsmtpd_log) + 1)
        q = [(start + i * step, line) for i, line in enumerate(self.qpsmtpd_log)]
        self.write("/var/log/qpsmtpd/current", multilog_text(q), 0o644, "qmaill")
        step = 3600 / max(1, len(self.qmail_log) + 1)
        m = [(start + i * step, line) for i, line in enumerate(self.qmail_log)]
        self.write("/var/log/qmail/current", multilog_text(m), 0o644, "qmaill")


# ---------------------------------------------------------------- SME programs
_SHIMS = {
    "sbin/e-smith/db": "smewizard.sim.dbcmd:main",
    "sbin/e-smith/config": "smewizard.sim.dbcmd:config_main",
    "sbin/e-smith/signal-event": "smewizard.sim.events:main",
    "usr/bin/qpsmtpd-dns": "smewizard.sim.qpsmtpd_dns:main",
}


def install_shims(root: Path) -> None:
    """Write SME's programs into <root>/sbin/e-smith (and qpsmtpd-dns into <root>/usr/bin) as
    small Python scripts that call this package with the root baked in (they work from PATH,
    as on a real server)."""
    package_parent = str(Path(__file__).resolve().parents[2])
    for rel, target in _SHIMS.items():
        name = rel.rsplit("/", 1)[1]
        module, func = target.split(":")
        text = (
            f"#!{sys.executable}\n"
            f"# Simulated SME program `{name}` for the root below (written by smewizard.sim).\n"
            "import sys\n"
            f"sys.path.insert(0, {package_parent!r})\n"
            f"from {module} import {func}\n"
            f"sys.exit({func}(sys.argv[1:], root={str(root)!r}))\n"
        )
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o755)


def build_root(
    path: Path | str,
    scenario: str = "demo",
    *,
    uid_map: dict[str, int] | None = None,
    size: int | None = None,
) -> SimServer:
    """Build scenario `scenario` (see smewizard.sim.scenarios.SCENARIOS) in directory `path`
    (created if needed; must be empty). `uid_map` overrides uids by account name (e.g. the
    lab passes Debian's real `qpsmtpd` uid); `size` overrides the count of scalable scenarios."""
    from smewizard.sim.scenarios import SCENARIOS, UnknownScenario

    spec = SCENARIOS.get(scenario)
    if spec is None:
        raise UnknownScenario(
            f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}"
        )
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    if any(root.iterdir()):
        raise FileExistsError(
            f"{root} is not empty; a simulated root is built in an empty directory"
        )
    builder = RootBuilder(root, scenario, uid_map)
    builder.description = spec.description
    options: dict[str, Any] = {} if size is None else {"size": size}
    spec.build(builder, **options)
    return builder.finish()
