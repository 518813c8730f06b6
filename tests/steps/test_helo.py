"""HELO & PTR step against the embedded DNS server on loopback and a minimal SME root."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smewizard.actions.base import SetProp, SignalEvent
from smewizard.host import LocalHost
from smewizard.model import Status
from smewizard.steps.base import Context
from smewizard.steps.helo import STEP
from smewizard.steps.server import probe_server

IP = "203.0.113.10"
REV_ZONE = "113.0.203.in-addr.arpa"
REV_NAME = "10.113.0.203.in-addr.arpa"


def make_root(tmp_path: Path, helo: str | None = "mail.example.com", extra: str = "") -> Path:
    db = tmp_path / "home/e-smith/db"
    db.mkdir(parents=True)
    qpsmtpd = "qpsmtpd=service|status|enabled" + (f"|HeloHost|{helo}" if helo else "")
    (db / "configuration").write_text(
        "DomainName=example.com\nSystemName=mail\n" + qpsmtpd + "\n" + extra
    )
    (db / "domains").write_text("example.com=domain|Nameservers|internet\nother.org=domain\n")
    (db / "accounts").write_text("")
    return tmp_path


def run(ctx: Context):
    async def go():
        server = await probe_server(ctx)
        facts = await STEP.probe(ctx, server)
        return facts, STEP.assess(facts)

    return asyncio.run(go())


def codes(assessment) -> dict[str, Status]:
    return {f.code: f.status for f in assessment.findings}


@pytest.fixture
def zones(make_zone):
    def build(ptr: str | None = "mail.example.com", a: dict | None = None):
        a_records = {"mail.example.com": [IP]} if a is None else a
        make_zone("example.com", a=a_records)
        make_zone(REV_ZONE, ptr={REV_NAME: [ptr + "."]} if ptr else {})
        return None

    return build


def context(root: Path, dns_client, public_ips=()) -> Context:
    return Context(host=LocalHost(root), dns=dns_client, public_ips=tuple(public_ips))


def test_all_three_agree_passes_without_actions(tmp_path, zones, dns_client):
    zones()
    facts, result = run(context(make_root(tmp_path), dns_client))
    found = codes(result)
    assert found["HELO015"] is Status.PASS
    assert found["HELO008"] is Status.PASS
    assert result.actions == ()
    assert "back to 203.0.113.10: ✓" in facts.diagram()
    assert facts.provider_requests() == []


def test_missing_ptr_fails_and_offers_provider_text(tmp_path, zones, dns_client):
    zones(ptr=None)
    facts, result = run(context(make_root(tmp_path), dns_client))
    assert codes(result)["HELO003"] is Status.FAIL
    [record] = result.records
    assert (record.name, record.rtype, record.value) == (REV_NAME, "PTR", "mail.example.com")
    [text] = facts.provider_requests()
    assert "203.0.113.10" in text and "    mail.example.com" in text
    assert "no PTR record" in text
    assert result.actions == ()  # PTR is the provider's: no server change proposed


def test_generic_provider_ptr_is_flagged(tmp_path, zones, dns_client):
    zones(ptr="static-203-0-113-10.isp.example.net")
    _, result = run(context(make_root(tmp_path), dns_client))
    found = codes(result)
    assert found["HELO005"] is Status.WARN
    assert "HELO015" not in found


def test_ptr_to_hosted_domain_is_flagged(tmp_path, zones, dns_client):
    zones(ptr="other.org", a={"mail.example.com": [IP]})
    _, result = run(context(make_root(tmp_path), dns_client))
    finding = next(f for f in result.findings if f.code == "HELO006")
    assert "other.org" in finding.message


def test_ptr_name_not_resolving_back_fails(tmp_path, zones, dns_client):
    zones(ptr="mx.example.com", a={"mail.example.com": [IP], "mx.example.com": ["198.51.100.7"]})
    _, result = run(context(make_root(tmp_path), dns_client))
    assert codes(result)["HELO010"] is Status.FAIL


def test_helohost_unset_proposes_setprop_and_event(tmp_path, zones, dns_client):
    zones()
    _, result = run(context(make_root(tmp_path, helo=None), dns_client))
    assert codes(result)["HELO013"] is Status.WARN
    assert result.actions == (
        SetProp("configuration", "qpsmtpd", "HeloHost", "mail.example.com", step="helo", record_type="service"),
        SignalEvent("email-update", step="helo"),
    )
    assert result.actions[0].shell() == ["db configuration setprop qpsmtpd HeloHost mail.example.com"]


def test_helohost_different_proposes_fqdn(tmp_path, zones, dns_client):
    zones()
    _, result = run(context(make_root(tmp_path, helo="example.com"), dns_client))
    assert codes(result)["HELO014"] is Status.WARN
    assert result.actions[0].target_value() == "mail.example.com"


def test_smtpd_helohost_is_reported(tmp_path, zones, dns_client):
    zones()
    root = make_root(tmp_path, extra="smtpd=service|HeloHost|example.com\n")
    _, result = run(context(root, dns_client))
    assert codes(result)["HELO019"] is Status.INFO


def test_ptr_timeout_is_unknown_and_proposes_nothing(tmp_path, zones, dns_client, auth_server):
    zones()
    auth_server.set_failure(REV_NAME, "timeout")
    facts, result = run(context(make_root(tmp_path), dns_client))
    found = codes(result)
    assert found["HELO004"] is Status.UNKNOWN
    assert "HELO003" not in found and "HELO015" not in found
    assert result.records == ()
    assert facts.provider_requests() == []
    assert "PTR lookup failed" in facts.diagram()


def test_forward_servfail_is_unknown_not_fail(tmp_path, zones, dns_client, auth_server):
    zones(ptr="mx.example.com", a={"mail.example.com": [IP], "mx.example.com": [IP]})
    auth_server.set_failure("mx.example.com", "servfail")
    _, result = run(context(make_root(tmp_path), dns_client))
    found = codes(result)
    assert found["HELO009"] is Status.UNKNOWN
    assert "HELO010" not in found


def test_public_ip_unknown_when_fqdn_lookup_fails(tmp_path, zones, dns_client, auth_server):
    zones()
    auth_server.set_failure("mail.example.com", "timeout")
    _, result = run(context(make_root(tmp_path), dns_client))
    assert codes(result)["HELO002"] is Status.UNKNOWN
    assert result.records == ()


def test_ipv6_from_fqdn_aaaa_is_checked(tmp_path, make_zone, dns_client):
    v6 = "2001:db8::25"
    make_zone("example.com", a={"mail.example.com": [IP]}, aaaa={"mail.example.com": [v6]})
    make_zone(REV_ZONE, ptr={REV_NAME: ["mail.example.com."]})
    make_zone("ip6.arpa")  # no PTR for the v6 address
    facts, result = run(context(make_root(tmp_path), dns_client))
    assert [ip.address for ip in facts.ips] == [IP, v6]
    no_ptr = [f for f in result.findings if f.code == "HELO003"]
    assert len(no_ptr) == 1 and v6 in no_ptr[0].message


def test_public_ip_option_overrides(tmp_path, zones, dns_client):
    zones()
    facts, _ = run(context(make_root(tmp_path), dns_client, public_ips=[IP]))
    assert facts.ips[0].source == "--public-ip"


def test_apply_helohost_on_sim_then_reverify(sim_dns):
    from smewizard.actions.apply import apply_actions

    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns)
    _, before = run(ctx)
    assert codes(before)["HELO013"] is Status.WARN
    assert apply_actions(ctx.host, before.actions).ok
    _, after = run(ctx)
    found = codes(after)
    assert "HELO013" not in found and found["HELO018"] is Status.PASS
    assert found["HELO005"] is Status.WARN  # the PTR is the provider's: still to request


def write_control(root: Path, name: str, text: str) -> None:
    control = root / "var/qmail/control"
    control.mkdir(parents=True, exist_ok=True)
    (control / name).write_text(text)


def test_the_generated_helohost_file_is_checked_not_only_the_db_key(tmp_path, dns_client, zones):
    # qpsmtpd HeloHost is right, but what qmail-remote announces (the generated file) is not:
    # a template reading another key, or no email-update since. Told, with the SME 7/8 key to try.
    zones()
    root = make_root(tmp_path)
    write_control(root, "helohost", "example.com\n")
    _, out = run(context(root, dns_client, [IP]))
    found = {f.code: f for f in out.findings}
    assert found["HELO018"].status is Status.PASS
    assert found["HELO021"].status is Status.FAIL and "announces example.com" in found["HELO021"].message
    assert "smtpd HeloHost mail.example.com" in found["HELO021"].explanation
    assert "HELO015" not in found


def test_without_helohost_qmail_announces_control_me(tmp_path, dns_client, zones):
    zones()
    root = make_root(tmp_path)
    write_control(root, "me", "Mail.Example.com.\n")
    _, out = run(context(root, dns_client, [IP]))
    found = {f.code: f for f in out.findings}
    assert found["HELO020"].status is Status.PASS and "control/me" in found["HELO020"].message
    assert found["HELO015"].status is Status.PASS


def test_an_unreadable_helohost_is_unknown_not_wrong(tmp_path, dns_client, zones):
    zones()
    root = make_root(tmp_path)
    (root / "var/qmail/control/helohost").mkdir(parents=True)  # a directory: cannot be read as text
    _, out = run(context(root, dns_client, [IP]))
    found = {f.code: f for f in out.findings}
    assert found["HELO020"].status is Status.UNKNOWN and "HELO021" not in found


async def test_demo_announces_the_bare_domain_until_the_fix_is_applied(sim_dns):
    from smewizard.actions.apply import apply_actions

    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns)

    async def assess():
        return STEP.assess(await STEP.probe(ctx, await probe_server(ctx)))

    before = await assess()
    found = {f.code: f for f in before.findings}
    assert "proposed above" in found["HELO021"].explanation and before.actions
    assert apply_actions(ctx.host, before.actions).ok
    after = {f.code: f for f in (await assess()).findings}
    assert after["HELO020"].status is Status.PASS and "HELO021" not in after
