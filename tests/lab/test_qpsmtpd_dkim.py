"""The DKIM step against Debian's real qpsmtpd dkim plugin.

The wizard generates a key on the simulated SME root (owned by the real `qpsmtpd` uid), enables
DKIMSigning and runs the simulated `signal-event email-update`; qpsmtpd-forkserver then reads
the `config/dkim/` folder that event built. Mail from the domain with a key must be logged
`dkim: pass, we signed the message` and its queued DKIM-Signature must verify (dkimpy) against
the record the wizard proposed, published on the loopback DNS server; mail from a domain with
no key must be logged `skip, DKIM not configured for <domain>`. The wizard predicted both.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from smewizard.actions.apply import apply_actions
from smewizard.mail import dkim as mk
from smewizard.sim import build_root
from smewizard.steps import dkim as step
from smewizard.steps.base import Context
from smewizard.steps.server import probe_server
from tests.conftest import need_program
from tests.lab.knot import start_knot, zone_text
from tests.lab.qpsmtpd import need_lab_root, qpsmtpd_uid, start_qpsmtpd

pytestmark = pytest.mark.lab

SIGNED, UNSIGNED = "example.com", "example.net"



async def audit(host, dns):
    ctx = Context(host=host, dns=dns)
    facts = await step.STEP.probe(ctx, await probe_server(ctx))
    return facts, step.STEP.assess(facts)


def by_domain(facts, domain):
    return next(d for d in facts.domains if d.domain == domain)


def send(lab, sender: str, subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "someone@remote.example"
    msg["Subject"] = subject
    msg["Date"] = "Wed, 25 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@{sender.split('@')[1]}>"
    msg.set_content("Hello from the smewizard DKIM lab.\n")
    with smtplib.SMTP("127.0.0.1", lab.port, timeout=30) as smtp:
        smtp.send_message(msg, from_addr=sender, to_addrs=["someone@remote.example"])


async def test_real_qpsmtpd_signs_with_the_wizards_key_and_skips_a_domain_without(
    lab_dir, auth_server, dns_client
):
    need_program("qpsmtpd-forkserver")
    need_program("multilog")
    need_program("knotd")
    need_lab_root()
    sim = build_root(lab_dir / "root", "fresh", uid_map={"qpsmtpd": qpsmtpd_uid()})
    sim.serve(auth_server)
    host = sim.host()
    assert host.run(["db", "domains", "set", UNSIGNED, "domain"]).ok

    facts, before = await audit(host, dns_client)
    assert step.predict(by_domain(facts, SIGNED)) is step.PluginOutcome.SKIP
    # the wizard's fix for the signed domain only: DKIMSigning, a generated key, email-update
    report = apply_actions(host, list(before.for_domain(SIGNED).actions))
    assert report.ok, report

    facts, after = await audit(host, dns_client)
    assert step.predict(by_domain(facts, SIGNED)) is step.PluginOutcome.SIGN
    assert step.predict(by_domain(facts, UNSIGNED)) is step.PluginOutcome.SKIP
    record = next(r for r in after.records if r.domain == SIGNED)
    selector = record.name.split(".")[0]
    auth_server.publish(record)  # as the admin would at the registrar

    lab = start_qpsmtpd(
        lab_dir / "qpsmtpd", sim.root / "var/service/qpsmtpd/config/dkim",
        dns_address=auth_server.address, rcpthosts=(SIGNED, UNSIGNED),
    )
    try:
        send(lab, f"alice@{SIGNED}", "signed by the wizard key")
        signed_line = lab.wait_for_log("dkim: pass, we signed the message")
        send(lab, f"bob@{UNSIGNED}", "no key here")
        skip_line = lab.wait_for_log(f"dkim: skip, DKIM not configured for {UNSIGNED}")
        lab.wait_for_log("250 Queued! <no-key-here@")  # both messages queued
    finally:
        lab.stop()
    assert "(data_post)" in signed_line or "(data_post_headers)" in signed_line
    assert signed_line.startswith("@4000") and skip_line.startswith("@4000")  # multilog TAI64N

    messages = lab.queued_messages()
    signed = next(m for m in messages if b"alice@" in m)
    unsigned = next(m for m in messages if b"bob@" in m)
    assert b"DKIM-Signature:" in signed and b"DKIM-Signature:" not in unsigned
    assert f"s={selector};".encode() in signed.replace(b" ", b"")
    assert f"d={SIGNED};".encode() in signed.replace(b" ", b"")

    wire = signed.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
    assert mk.verify_signed(wire, txt_via(dns_client)).verified  # the embedded server

    # The admin pastes the wizard's BIND line into a real zone file served by Knot: the queued
    # message verifies against it, and so does the wizard's own probe asking Knot.
    knot = start_knot(lab_dir / "knot", {SIGNED: zone_text(SIGNED, [record.zone_line(SIGNED)])})
    try:
        knot_dns = knot.dns()
        assert knot_dns.lookup_sync(record.name, "TXT").values == (record.value,)
        assert mk.verify_signed(wire, txt_via(knot_dns)).verified
        _, final = await audit(host, knot_dns)
    finally:
        knot.stop()
    assert {"DKIM025", "DKIM029"} <= {f.code for f in final.findings if f.domain == SIGNED}
    assert "DKIM001" in {f.code for f in final.findings if f.domain == UNSIGNED}


def txt_via(dns):
    def txt(name):
        lookup = dns.lookup_sync(name, "TXT")
        if lookup.failed:
            raise mk.DnsUnavailable(lookup.describe())
        return lookup.values if lookup.ok else None

    return txt


async def test_real_qpsmtpd_signs_with_the_default_fallback_as_sme_lays_it_out(
    lab_dir, auth_server, dns_client
):
    """Upstream qpsmtpd has no `default` key fallback; SME's templates (as simulated) give each
    domain its own folder whose files link to dkim_keys/default/. The plugin must sign with
    d=<domain>, never d=default."""
    need_program("qpsmtpd-forkserver")
    need_program("multilog")
    need_lab_root()
    sim = build_root(lab_dir / "root", "dkim-default-key", uid_map={"qpsmtpd": qpsmtpd_uid()})
    sim.serve(auth_server)
    facts, assessment = await audit(sim.host(), dns_client)
    org = by_domain(facts, "example.org")
    assert org.source is step.Source.DEFAULT
    assert step.predict(org) is step.PluginOutcome.SIGN
    assert "DKIM025" in {f.code for f in assessment.findings if f.domain == "example.org"}

    lab = start_qpsmtpd(
        lab_dir / "qpsmtpd", sim.root / "var/service/qpsmtpd/config/dkim",
        dns_address=auth_server.address, rcpthosts=("example.com", "example.org"),
    )
    try:
        send(lab, "carol@example.org", "signed by the default key")
        lab.wait_for_log("dkim: pass, we signed the message")
        lab.wait_for_log("250 Queued! <signed-by-the-default-key@")
    finally:
        lab.stop()
    signed = lab.queued_messages()[0]
    assert b"d=example.org;" in signed.replace(b" ", b"")

    assert mk.verify_signed(signed.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n"),
                            txt_via(dns_client)).verified
