"""Scenario invariants: what each named scenario promises the rest of the suite."""

from __future__ import annotations

import os
import stat

import pytest

from smewizard.sim import SCENARIOS, build_root
from smewizard.sim.scenarios import UnknownScenario
from smewizard.sme.config import SmeConfig

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="ownership needs root (CI runs as root)")


@pytest.mark.parametrize("name", [n for n in SCENARIOS if not n.startswith("many-")])
def test_every_scenario_reads_cleanly_through_the_wizard_path(sim_root, name):
    sim = sim_root(name)
    config = SmeConfig.load(sim.host())
    assert config.problems == []
    assert config.hosted_domains == list(sim.domains)
    assert config.external_ip == (None if name == "fresh" else sim.public_ip)
    assert SCENARIOS[name].description
    for origin in sim.zones:
        assert sim.zones[origin].startswith(f"$ORIGIN {origin}.")


def test_demo_has_the_documented_problems(sim_root):
    sim = sim_root("demo")
    config = SmeConfig.load(sim.host())
    assert config.hosted_domains == ["example.com", "example.org", "shop.example.net"]
    assert config.fqdn == "mail.example.com"
    assert config.smarthost == "relay.isp.example"
    assert config.qpsmtpd.get("DKIMSigning") != "enabled"
    assert "HeloHost" not in config.qpsmtpd and "DoubleBounceTo" not in config.qmail
    assert "ip4:198.51.100.25" not in sim.zones["example.com"]
    assert " ptr " in sim.zones["example.org"]
    assert "v=spf1" not in sim.zones["shop.example.net"]
    host = sim.host()
    assert host.exists("/etc/qpsmtpd/dkim/example.com/private")
    assert not host.exists("/home/e-smith/dkim_keys/example.com")
    assert host.read_bytes("/home/e-smith/dkim_keys/example.org/selector") == b"default\r\n"
    assert "static-203-0-113-10.cust.provider.example." in sim.zones["113.0.203.in-addr.arpa"]
    log = host.read_text("/var/log/qpsmtpd/current")
    assert "(data_post) dkim: skip, DKIM not configured for example.org" in log


@needs_root
def test_demo_junkmail_tmp_of_carol_is_root_owned(sim_root):
    host = sim_root("demo").host()
    assert host.stat("/home/e-smith/files/users/carol/Maildir/.junkmail/tmp").owner == "root"
    assert host.stat("/home/e-smith/files/users/alice/Maildir/.junkmail/tmp").owner == "alice"


def test_private_keys_are_mode_0400(sim_root):
    host = sim_root("good").host()
    for domain in ("example.com", "example.org"):
        st = host.stat(f"/home/e-smith/dkim_keys/{domain}/default")
        assert st.mode == 0o400
        assert host.read_bytes(f"/home/e-smith/dkim_keys/{domain}/default").startswith(
            b"-----BEGIN PRIVATE KEY-----"
        )


@needs_root
def test_good_keys_are_owned_by_qpsmtpd(sim_root):
    host = sim_root("good").host()
    for domain in ("example.com", "example.org"):
        assert host.stat(f"/home/e-smith/dkim_keys/{domain}/default").owner == "qpsmtpd"
        assert host.stat(f"/home/e-smith/dkim_keys/{domain}/selector").owner == "qpsmtpd"


def test_good_has_links_helo_doublebounce_and_pseudonym(sim_root):
    sim = sim_root("good")
    host = sim.host()
    config = SmeConfig.load(host)
    assert config.qpsmtpd["DKIMSigning"] == "enabled"
    assert config.qpsmtpd["HeloHost"] == config.fqdn == "mail.example.com"
    assert config.qmail["DoubleBounceTo"] == "devnull"
    assert config.pseudonym_target("dmarc-feedback") == "admin"
    assert (
        host.resolve("/var/service/qpsmtpd/config/dkim/example.com/private")
        == "/home/e-smith/dkim_keys/example.com/default"
    )
    assert "mail.example.com." in sim.zones["113.0.203.in-addr.arpa"]
    assert (
        "p=reject" in sim.zones["example.org"]
        and "rua=mailto:dmarc-feedback@example.org" in sim.zones["example.org"]
    )


def test_published_dkim_key_matches_the_private_key(sim_root):
    from cryptography.hazmat.primitives import serialization

    sim = sim_root("good")
    pem = sim.host().read_bytes("/home/e-smith/dkim_keys/example.com/default")
    public = (
        serialization.load_pem_private_key(pem, None)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    import base64

    zone = sim.zones["example.com"]
    line = next(x for x in zone.splitlines() if x.startswith("mar2026._domainkey"))
    strings = line.split("TXT", 1)[1].strip()
    joined = "".join(part for part in strings.split('"')[1::2])
    assert joined.endswith("p=" + base64.b64encode(public).decode())
    assert all(len(part) <= 255 for part in strings.split('"')[1::2])


def test_dns_timeout_declares_failures(sim_root):
    sim = sim_root("dns-timeout")
    assert sim.dns_failures["example.org"] == "timeout"
    assert sim.dns_failures["_dmarc.example.com"] == "servfail"
    assert sim.dns_failures["10.113.0.203.in-addr.arpa"] == "timeout"


def test_many_domains_size_parameter(sim_root):
    sim = sim_root("many-domains", size=12)
    assert len(sim.domains) == 12
    assert len(SmeConfig.load(sim.host()).hosted_domains) == 12


def test_many_users_small(sim_root):
    sim = sim_root("many-users", size=5)
    assert len(sim.users) == 5
    assert sim.host().exists("/home/e-smith/files/users/user0004/Maildir/.junkmail/tmp")


def test_two_roots_are_independent(sim_root):
    a, b = sim_root("demo"), sim_root("demo")
    assert a.root != b.root
    assert (
        a.host().run(["db", "configuration", "setprop", "qpsmtpd", "HeloHost", "x.example.com"]).ok
    )
    assert b.host().run(["db", "configuration", "getprop", "qpsmtpd", "HeloHost"]).returncode == 1
    # each root's programs carry their own root
    assert str(b.root) in (b.root / "sbin/e-smith/db").read_text()


def test_passwd_has_system_accounts_and_users_from_5000(sim_root):
    sim = sim_root("demo", uid_map={"qpsmtpd": 107})
    passwd = {
        line.split(":")[0]: int(line.split(":")[2])
        for line in (sim.root / "etc/passwd").read_text().splitlines()
    }
    for name in (
        "root",
        "admin",
        "qpsmtpd",
        "smtpd",
        "qmaild",
        "qmaill",
        "qmailr",
        "qmails",
        "alias",
    ):
        assert name in passwd
    assert passwd["qpsmtpd"] == 107
    assert all(passwd[u] >= 5000 for u in sim.users)
    groups = (sim.root / "etc/group").read_text()
    assert "qpsmtpd:x:107:" in groups


def test_shims_are_executable(sim_root):
    sim = sim_root("fresh")
    for name in ("db", "config", "signal-event"):
        mode = os.stat(sim.root / "sbin/e-smith" / name).st_mode
        assert mode & stat.S_IXUSR


def test_unknown_scenario_and_non_empty_directory_are_refused(tmp_path):
    with pytest.raises(UnknownScenario, match="known: "):
        build_root(tmp_path / "x", "no-such")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("x")
    with pytest.raises(FileExistsError):
        build_root(tmp_path / "full", "fresh")


def test_logs_are_multilog_format(sim_root):
    import re

    sim = sim_root("demo")
    for path in ("/var/log/qpsmtpd/current", "/var/log/qmail/current"):
        lines = sim.host().read_text(path).splitlines()
        assert lines
        assert all(re.match(r"^@4000[0-9a-f]{20} \S", line) for line in lines)


def test_uid_override_never_shares_a_uid_with_another_account(sim_root):
    sim = sim_root("fresh", uid_map={"qpsmtpd": 101})  # 101 is the simulated admin's default
    entries = [line.split(":") for line in (sim.root / "etc/passwd").read_text().splitlines()]
    uids = [int(e[2]) for e in entries]
    assert len(uids) == len(set(uids))
    assert sim.host().user_of(101) == "qpsmtpd"


def test_dkim_linked_dir_has_the_hazard_until_the_next_event(sim_root):
    sim = sim_root("dkim-linked-dir")
    host = sim.host()
    st = host.stat("/var/service/qpsmtpd/config/dkim/example.org")
    assert st.is_symlink and st.link_target == "/home/e-smith/dkim_keys/default"
    assert not host.stat("/var/service/qpsmtpd/config/dkim/example.com").is_symlink
    assert host.run(["signal-event", "email-update"]).returncode == 0
    assert not host.stat("/var/service/qpsmtpd/config/dkim/example.org").is_symlink


def test_building_without_root_skips_chown_and_says_so(sim_root, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "chown", lambda *a, **k: pytest.fail("chown attempted"))
    monkeypatch.setattr(os, "lchown", lambda *a, **k: pytest.fail("lchown attempted"))
    monkeypatch.setattr(os, "fchown", lambda *a, **k: pytest.fail("fchown attempted"))
    sim = sim_root("good")
    assert sim.ownership_applied is False
    assert sim.host().stat("/home/e-smith/dkim_keys/example.com/default").mode == 0o400
