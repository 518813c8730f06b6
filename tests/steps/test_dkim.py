"""DKIM step against the simulated SME root and the loopback DNS server: every finding code a
user can meet, what is proposed (and what never is), and the qpsmtpd prediction."""

from __future__ import annotations

import os
import shutil

import pytest

from smewizard.actions import dkim as acts
from smewizard.actions.base import SetProp, SignalEvent
from smewizard.mail import dkim as mk
from smewizard.model import Status
from smewizard.steps import dkim as step
from smewizard.steps.base import Context
from smewizard.steps.server import probe_server


async def audit(sim, dns, only=()):
    ctx = Context(host=sim.host(), dns=dns, only_domains=tuple(only))
    server = await probe_server(ctx)
    facts = await step.STEP.probe(ctx, server)
    return facts, step.STEP.assess(facts)


def codes(assessment, domain=None):
    return {f.code: f for f in assessment.findings if domain is None or f.domain == domain}


def path(sim, sme_path):
    return sim.root / sme_path.lstrip("/")


async def test_good_server_signs_and_the_record_verifies(sim_dns):
    sim, dns = sim_dns("good")
    facts, a = await audit(sim, dns)
    for domain in ("example.com", "example.org"):
        found = codes(a, domain)
        assert set(found) == {"DKIM025", "DKIM029"}
        d = next(x for x in facts.domains if x.domain == domain)
        assert step.predict(d) is step.PluginOutcome.SIGN
        assert d.source is step.Source.DOMAIN
    assert a.actions == () and a.records == ()
    assert a.status is Status.PASS


async def test_demo_names_each_cause_and_proposes_the_fixes(sim_dns):
    sim, dns = sim_dns("demo")
    facts, a = await audit(sim, dns)
    assert codes(a)["DKIM014"].domain is None
    assert "DKIM018" in codes(a, "example.com")  # key in /etc/qpsmtpd/dkim
    org = codes(a, "example.org")
    assert {"DKIM005", "DKIM015", "DKIM025"} <= set(org)
    assert org["DKIM022"].status is Status.INFO  # test mode, but signing not verified yet
    assert "DKIM001" in codes(a, "shop.example.net")
    kinds = [type(x) for x in a.actions]
    assert kinds[0] is SetProp and kinds.count(SignalEvent) == 1
    event = kinds.index(SignalEvent)
    checks = [x for x in a.actions[event + 1:]]
    assert checks and all(isinstance(x, acts.VerifyDkimLinks) for x in checks)
    assert {(c.domain_name, c.name) for c in checks} == {
        ("example.com", "example.com"), ("example.org", "example.org"),
        ("shop.example.net", "shop.example.net")}
    migrate = next(x for x in a.actions if isinstance(x, acts.MigrateDkimKeys))
    assert migrate.source == "/etc/qpsmtpd/dkim/example.com" and migrate.private_name == "private"
    gen = next(x for x in a.actions if isinstance(x, acts.GenerateDkimKey))
    assert gen.name == "shop.example.net" and gen.selector == "nov2026" or gen.selector[:3].isalpha()
    selector_fix = next(x for x in a.actions if isinstance(x, acts.WriteDkimSelector))
    assert selector_fix.selector == "default"
    for d in facts.domains:
        assert step.predict(d) is step.PluginOutcome.SKIP


async def test_default_fallback_is_named_and_t_y_removal_offered_once_signing(sim_dns):
    sim, dns = sim_dns("dkim-default-key")
    facts, a = await audit(sim, dns)
    com = codes(a, "example.com")
    assert com["DKIM002"].status is Status.INFO
    assert com["DKIM022"].status is Status.WARN and "t=n" in com["DKIM022"].explanation
    rec = next(r for r in a.records if r.domain == "example.com")
    assert rec.name == "default._domainkey.example.com" and "t=y" not in rec.value
    d = facts.domains[0]
    assert d.links.private_resolved == "/home/e-smith/dkim_keys/default/default"


@pytest.mark.parametrize(
    ("selector_bytes", "code"),
    [(b"", "DKIM004"), (b"mar2026\r\n", "DKIM005"), (b"mar 2026\n", "DKIM006"),
     (b"mar_2026\n", "DKIM007"), (b"mar2026\nold\n", "DKIM008")],
)
async def test_selector_file_problems(sim_dns, selector_bytes, code):
    sim, dns = sim_dns("good")
    path(sim, "/home/e-smith/dkim_keys/example.com/selector").write_bytes(selector_bytes)
    _, a = await audit(sim, dns, ["example.com"])
    assert code in codes(a)


async def test_missing_selector_and_key_files(sim_dns):
    sim, dns = sim_dns("good")
    os.unlink(path(sim, "/home/e-smith/dkim_keys/example.com/selector"))
    os.unlink(path(sim, "/home/e-smith/dkim_keys/example.org/default"))
    facts, a = await audit(sim, dns)
    assert "DKIM003" in codes(a, "example.com")
    assert "DKIM009" in codes(a, "example.org")
    org = next(d for d in facts.domains if d.domain == "example.org")
    assert step.predict(org) is step.PluginOutcome.KEY_ERROR
    com = next(d for d in facts.domains if d.domain == "example.com")
    assert step.predict(com) is step.PluginOutcome.BAD_SELECTOR


async def test_unparseable_and_small_keys(sim_dns):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    sim, dns = sim_dns("good")
    key = path(sim, "/home/e-smith/dkim_keys/example.com/default")
    os.chmod(key, 0o600)
    key.write_bytes(b"garbage\n")
    os.chmod(key, 0o400)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    key2 = path(sim, "/home/e-smith/dkim_keys/example.org/default")
    os.chmod(key2, 0o600)
    key2.write_bytes(small)
    os.chmod(key2, 0o400)
    _, a = await audit(sim, dns)
    assert codes(a, "example.com")["DKIM010"].status is Status.FAIL
    assert codes(a, "example.org")["DKIM011"].status is Status.WARN
    assert "garbage" not in repr(a)


async def test_owner_and_mode_are_checked_and_fixed_by_one_action(sim_dns):
    sim, dns = sim_dns("good")
    key = path(sim, "/home/e-smith/dkim_keys/example.com/default")
    os.chmod(key, 0o644)
    os.chown(key, 0, 0)
    _, a = await audit(sim, dns, ["example.com"])
    found = codes(a)
    assert found["DKIM012"].status is Status.FAIL
    assert found["DKIM013"].status is Status.FAIL and "0644" in found["DKIM013"].message
    fix = [x for x in a.actions if isinstance(x, acts.FixDkimKeyPermissions)]
    assert len(fix) == 1 and fix[0].shell() == [
        "chown -R qpsmtpd:qpsmtpd /home/e-smith/dkim_keys/example.com",
        "chmod 400 /home/e-smith/dkim_keys/example.com/default",
    ]


async def test_links_missing_stale_or_a_linked_directory(sim_dns):
    sim, dns = sim_dns("good")
    links = path(sim, "/var/service/qpsmtpd/config/dkim")
    shutil.rmtree(links / "example.com")
    os.unlink(links / "example.org" / "private")
    os.symlink(str(path(sim, "/home/e-smith/dkim_keys/example.com/default")), links / "example.org" / "private")
    _, a = await audit(sim, dns)
    assert "DKIM015" in codes(a, "example.com")
    stale = codes(a, "example.org")["DKIM016"]
    assert "/home/e-smith/dkim_keys/example.com/default" in stale.message
    assert any(isinstance(x, SignalEvent) for x in a.actions)

    shutil.rmtree(links / "example.org")
    os.symlink(str(path(sim, "/home/e-smith/dkim_keys/example.org")), links / "example.org")
    _, a = await audit(sim, dns, ["example.org"])
    assert "DKIM017" in codes(a)


async def test_record_absent_mismatched_duplicated_or_t_n(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    auth_server.delete_records("mar2026._domainkey.example.com")
    other = mk.inspect_private_key(mk.generate_private_key_pem()).public_b64
    auth_server.set_txt("mar2026._domainkey.example.org", [mk.dkim_record_value(other)])
    facts, a = await audit(sim, dns)
    assert codes(a, "example.com")["DKIM019"].status is Status.FAIL
    proposal = next(r for r in a.records if r.domain == "example.com")
    assert proposal.value.endswith("; t=y")
    com = next(d for d in facts.domains if d.domain == "example.com")
    assert mk.public_keys_match(mk.parse_dkim_txt(proposal.value).public_b64, com.own.key.public_b64)
    assert codes(a, "example.org")["DKIM021"].status is Status.FAIL

    good = next(d for d in facts.domains if d.domain == "example.org").own.key.public_b64
    auth_server.set_txt("mar2026._domainkey.example.org", [mk.dkim_record_value(good) + "; t=n"])
    _, a = await audit(sim, dns, ["example.org"])
    assert {"DKIM028", "DKIM025"} <= set(codes(a))
    auth_server.set_txt("mar2026._domainkey.example.org",
                        [mk.dkim_record_value(good), mk.dkim_record_value(other)])
    _, a = await audit(sim, dns, ["example.org"])
    assert "DKIM024" in codes(a)  # which one dkimpy reads depends on the answer's order


async def test_dns_failure_is_unknown_and_proposes_nothing(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    auth_server.set_failure("mar2026._domainkey.example.com", "servfail")
    _, a = await audit(sim, dns, ["example.com"])
    found = codes(a)
    assert found["DKIM020"].status is Status.UNKNOWN
    assert "DKIM019" not in found and "DKIM021" not in found
    assert a.records == () and a.actions == ()


async def test_wrong_location_key_without_canonical_dir_is_migrated(sim_dns):
    sim, dns = sim_dns("demo")
    facts, a = await audit(sim, dns, ["example.com"])
    assert facts.domains[0].wrong[0].path == "/etc/qpsmtpd/dkim/example.com"
    assert "DKIM001" not in codes(a)  # the old key is moved, no new key is proposed
    migrate = [x for x in a.actions if isinstance(x, acts.MigrateDkimKeys)]
    assert migrate and not any(isinstance(x, acts.GenerateDkimKey) for x in a.actions)


async def test_smtpd_home_from_the_roots_passwd_is_searched(sim_dns):
    sim, dns = sim_dns("good")
    facts, _ = await audit(sim, dns)
    home = facts.smtpd_home
    assert home
    old = path(sim, f"{home}/config/dkim/example.com")
    old.mkdir(parents=True)
    (old / "private").write_bytes(b"x")
    _, a = await audit(sim, dns, ["example.com"])
    # example.com already has its canonical key: the stray copy is only mentioned
    assert codes(a)["DKIM018"].status is Status.INFO


async def test_rotation_stages_from_staging_to_retiring(sim_dns, auth_server):
    from datetime import date

    from smewizard.actions.apply import apply_actions

    sim, dns = sim_dns("good")
    host = sim.host()
    facts, _ = await audit(sim, dns, ["example.com"])
    start = step.rotation_start(facts.domains[0], date(2026, 12, 1))
    assert start[0].staged and start[0].selector == "dec2026"
    assert apply_actions(host, start).ok
    facts, a = await audit(sim, dns, ["example.com"])
    assert "publish" in codes(a)["DKIM027"].message.lower()
    new = next(r for r in a.records if r.name.startswith("dec2026."))
    assert codes(a)["DKIM029"]  # still signing with the old key meanwhile
    auth_server.publish(new)
    _, a = await audit(sim, dns, ["example.com"])
    switch = [x for x in a.actions if isinstance(x, acts.ActivateStagedDkimKey)]
    assert "switch" in codes(a)["DKIM027"].message.lower() and switch
    assert apply_actions(host, switch + [SignalEvent("email-update")]).ok
    facts, a = await audit(sim, dns, ["example.com"])
    assert facts.domains[0].published.selector == "dec2026"
    assert "DKIM025" in codes(a)
    assert "remove" in codes(a)["DKIM027"].message.lower()  # old record still published
    auth_server.delete_records("mar2026._domainkey.example.com")
    _, a = await audit(sim, dns, ["example.com"])
    assert "DKIM027" not in codes(a)


async def test_unusable_key_is_replaced_by_archiving_never_overwriting(sim_dns):
    sim, dns = sim_dns("good")
    os.unlink(path(sim, "/home/e-smith/dkim_keys/example.com/default"))
    _, a = await audit(sim, dns, ["example.com"])
    gen = next(x for x in a.actions if isinstance(x, acts.GenerateDkimKey))
    assert gen.archive_existing and gen.selector != "mar2026"
    assert gen.shell()[1].startswith("mv /home/e-smith/dkim_keys/example.com /home/e-smith/dkim_keys/example.com.OLD-backup-")


async def test_shared_default_key_switches_only_when_every_domain_verifies(sim_dns, auth_server):
    from datetime import date

    from smewizard.actions.apply import apply_actions

    sim, dns = sim_dns("dkim-default-key")
    facts, _ = await audit(sim, dns)
    start = step.rotation_start(facts.domains[0], date(2026, 12, 1))
    assert start[0].name == "default" and start[0].domain is None
    assert apply_actions(sim.host(), start).ok
    _, a = await audit(sim, dns)
    new = {r.domain: r for r in a.records if r.name.startswith("dec2026.")}
    assert set(new) == {"example.com", "example.org"}
    auth_server.publish(new["example.com"])
    _, a = await audit(sim, dns)
    assert not [x for x in a.actions if isinstance(x, acts.ActivateStagedDkimKey)]
    auth_server.publish(new["example.org"])
    _, a = await audit(sim, dns)
    switch = [x for x in a.actions if isinstance(x, acts.ActivateStagedDkimKey)]
    assert len(switch) == 1 and switch[0].name == "default"


async def test_key_folder_qpsmtpd_cannot_enter_means_no_signing(sim_dns):
    sim, dns = sim_dns("good")
    folder = path(sim, "/home/e-smith/dkim_keys/example.com")
    os.chown(folder, 0, 0)
    os.chmod(folder, 0o700)
    facts, a = await audit(sim, dns, ["example.com"])
    assert step.predict(facts.domains[0]) is step.PluginOutcome.KEY_ERROR
    assert "DKIM012" in codes(a) and "DKIM029" not in codes(a)


def test_key_bytes_read_by_the_probe_are_hidden(sim_root):
    sim = sim_root("good")
    facts, secret = step.read_key_dir(sim.host(), "example.com")
    body = path(sim, "/home/e-smith/dkim_keys/example.com/default").read_text().splitlines()[1]
    assert facts.key.ok and body not in repr(secret) and body not in repr(facts)


@pytest.mark.parametrize("damage", ["missing", "empty"])
async def test_a_lost_selector_gets_a_new_dated_one_for_the_kept_key_then_its_record(sim_dns, damage):
    # QA4 M2: a missing selector was a FAIL with no fix; the key is fine, it only needs a name
    from smewizard.actions.apply import apply_actions

    sim, dns = sim_dns("good")
    selector = path(sim, "/home/e-smith/dkim_keys/example.com/selector")
    key_before = path(sim, "/home/e-smith/dkim_keys/example.com/default").read_bytes()
    selector.unlink() if damage == "missing" else selector.write_bytes(b"")
    _, a = await audit(sim, dns, ["example.com"])
    writes = [x for x in a.actions if isinstance(x, acts.WriteDkimSelector)]
    assert len(writes) == 1 and writes[0].name == "example.com"
    ctx_host = sim.host()
    assert apply_actions(ctx_host, a.actions).ok
    written = selector.read_bytes()
    assert written == f"{writes[0].selector}\n".encode()
    assert path(sim, "/home/e-smith/dkim_keys/example.com/default").read_bytes() == key_before
    _, after = await audit(sim, dns, ["example.com"])
    assert not {"DKIM003", "DKIM004"} & set(codes(after))
    assert any(r.name == f"{writes[0].selector}._domainkey.example.com" for r in after.records)


async def test_a_key_path_that_is_a_directory_is_called_so(sim_dns):
    sim, dns = sim_dns("good")
    key = path(sim, "/home/e-smith/dkim_keys/example.com/default")
    key.unlink()
    key.mkdir()
    _, a = await audit(sim, dns, ["example.com"])
    found = codes(a)
    assert "DKIM010" in found
    assert [f for f in a.findings if f.code == "DKIM010"][0].message.endswith("a directory, not a key file")
