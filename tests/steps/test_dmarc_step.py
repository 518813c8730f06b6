"""The DMARC step against the simulated SME root and loopback DNS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smewizard.actions.apply import apply_actions
from smewizard.dmarc.sample import SampleRow, gzipped, report_mail, report_xml
from smewizard.dns import Dns
from smewizard.sme.db import read_db
from smewizard.steps.base import Context
from smewizard.steps.dmarc import STEP, CreatePseudonym
from smewizard.steps.server import probe_server
from tests.fixtures_dns import build_zone

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


async def audit(sim, dns, now=NOW):
    dns = Dns(dns.nameservers, timeout=5.0)  # same loopback server; no spurious timeout under load
    ctx = Context(host=sim.host(), dns=dns, now=now)
    server = await probe_server(ctx)
    facts = await STEP.probe(ctx, server)
    return facts, STEP.assess(facts)


def codes(assessment, domain):
    return {f.code: f for f in assessment.findings if f.domain == domain}


async def test_demo_proposes_records_and_the_pseudonym_and_applying_creates_it(sim_dns):
    sim, dns = sim_dns("demo")
    _, a = await audit(sim, dns)
    assert "DMARC011" in codes(a, "example.com")
    assert "DMARC001" in codes(a, "example.org")
    org = [r for r in a.records if r.domain == "example.org"]
    assert org[0].name == "_dmarc.example.org"
    assert org[0].value == "v=DMARC1; p=none; adkim=r; aspf=r; rua=mailto:dmarc-feedback@example.org"
    shells = [s for act in a.actions for s in act.shell()]
    assert shells[:2] == ["db accounts set dmarc-feedback pseudonym Account admin",
                          "signal-event pseudonym-create dmarc-feedback"]
    report = apply_actions(sim.host(), [x for x in a.actions if x.summary().startswith(("Create", "Run"))])
    assert report.ok, report.outcomes
    assert read_db(sim.host(), "accounts").prop("dmarc-feedback", "Account") == "admin"
    _, again = await audit(sim, dns)
    assert not any(isinstance(x, CreatePseudonym) for x in again.actions)


async def test_creating_the_pseudonym_never_replaces_an_existing_record(sim_root):
    sim = sim_root("good")
    outcome = apply_actions(sim.host(), [CreatePseudonym()])
    assert not outcome.ok and "not replacing" in outcome.outcomes[0].error


async def test_dns_failure_is_unknown_and_proposes_nothing(sim_dns, auth_server):
    sim, dns = sim_dns("demo")
    auth_server.set_failure("_dmarc.example.org", "servfail")
    _, a = await audit(sim, dns)
    found = codes(a, "example.org")
    assert set(found) == {"DMARC006"} and found["DMARC006"].status == "unknown"
    assert not [r for r in a.records if r.domain == "example.org"]


async def test_external_rua_needs_the_authorization_record(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=none; rua=mailto:agg@reports.example.net"])
    build_zone(auth_server, "example.net")
    _, a = await audit(sim, dns)
    f = codes(a, "example.com")["DMARC012"]
    assert "reports.example.net" in f.message
    auth = [r for r in a.records if r.name == "example.com._report._dmarc.reports.example.net"]
    assert auth and auth[0].value == "v=DMARC1"
    auth_server.set_txt("example.com._report._dmarc.reports.example.net", ["v=DMARC1"])
    _, a = await audit(sim, dns)
    assert "DMARC012" not in codes(a, "example.com")


async def test_strict_spf_alignment_with_a_subdomain_helo_warns_and_explains(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=none; aspf=s; pct=100; rua=mailto:dmarc-feedback@example.com"])
    _, a = await audit(sim, dns)
    found = codes(a, "example.com")
    assert found["DMARC015"].status == "warn" and "mail.example.com" in found["DMARC015"].message
    assert "relaxed" in found["DMARC015"].explanation.lower()
    assert found["DMARC004"].status == "warn" and "pct" in found["DMARC004"].message


def deliver_reports(sim, rows_per_day, days=30, p="none"):
    new = sim.root / "home/e-smith/Maildir/new"
    new.mkdir(parents=True, exist_ok=True)
    for day in range(days):
        begin = int((NOW - timedelta(days=days - day)).timestamp())
        xml = report_xml("example.com", rows_per_day, report_id=f"r{day}", begin=begin, p=p)
        (new / f"{day}.sim").write_bytes(report_mail(gzipped(xml), f"r{day}.xml.gz", domain="example.com", report_id=f"r{day}"))


async def test_ramp_recommends_quarantine_with_evidence_and_records_the_observation(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com"])
    deliver_reports(sim, [SampleRow("203.0.113.10", 40), SampleRow("198.51.100.200", 5, dkim="fail", spf="fail")])
    facts, a = await audit(sim, dns)
    found = codes(a, "example.com")
    assert "ready for p=quarantine" in found["DMARC020"].message
    nxt = [r for r in a.records if r.domain == "example.com" and "next stage" in r.note]
    assert nxt[0].value.startswith("v=DMARC1; p=quarantine;")
    src = facts.summary.for_domain("example.com").sources[0]
    assert src.ip == "203.0.113.10" and src.in_spf is True
    record = [x for x in a.actions if "Record that example.com" in x.summary()]
    assert apply_actions(sim.host(), record).ok
    _, a = await audit(sim, dns)
    assert "DMARC023" not in codes(a, "example.com")


async def test_ramp_holds_back_and_names_the_failing_legitimate_source(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com"])
    deliver_reports(sim, [SampleRow("203.0.113.10", 40), SampleRow("198.51.100.25", 10, dkim="fail", spf="fail")], p="quarantine")
    _, a = await audit(sim, dns)
    found = codes(a, "example.com")
    assert "DMARC020" not in found
    assert "198.51.100.25" in found["DMARC021"].explanation
    back = [r for r in a.records if r.domain == "example.com" and "step back" in r.note]
    assert back[0].value.startswith("v=DMARC1; p=none;")
    assert back[0].optional  # offered for that case only, never among the records to publish


async def test_reports_are_read_from_the_mailbox_the_rua_address_reaches(sim_dns, auth_server):
    sim, dns = sim_dns("good")  # alice is a user; reports go straight to her
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=none; rua=mailto:alice@example.com"])
    new = sim.root / "home/e-smith/files/users/alice/Maildir/new"
    new.mkdir(parents=True, exist_ok=True)
    xml = report_xml("example.com", [SampleRow("203.0.113.10", 7)], report_id="alice-1")
    (new / "1.sim").write_bytes(report_mail(xml, "r.xml", domain="example.com"))
    facts, _ = await audit(sim, dns)
    assert facts.summary.for_domain("example.com").messages == 7


async def test_a_failed_parent_lookup_is_unknown_and_says_what_is_known(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    auth_server.set_txt("_dmarc.example.com", [])
    auth_server.set_failure("_dmarc.com", "servfail")  # the TLD may fail: treated as nothing there
    _, a = await audit(sim, dns)
    assert "DMARC001" in codes(a, "example.com")


async def test_why_no_reports_are_shown_reads_right_in_each_case(sim_dns):
    from smewizard.steps.dmarc import reports_note

    sim, dns = sim_dns("demo")  # no dmarc-feedback pseudonym, no rua on this server
    facts, _ = await audit(sim, dns)
    assert reports_note(facts, "example.com") == (
        "No aggregate reports for example.com yet: there is no dmarc-feedback pseudonym "
        "(or other mailbox on this server) to receive them.")

    sim, dns = sim_dns("good")  # dmarc-feedback → admin, no report delivered yet
    facts, _ = await audit(sim, dns)
    assert reports_note(facts, "example.com") == (
        "No aggregate reports for example.com in /home/e-smith/Maildir (the mailbox "
        "dmarc-feedback delivers to, account admin) yet.")

    new = sim.root / "home/e-smith/Maildir/new"
    if new.is_dir():
        new.rmdir()
    new.parent.mkdir(parents=True, exist_ok=True)
    new.write_text("not a folder")  # listing it fails, as a mailbox we may not read does
    facts, _ = await audit(sim, dns)
    note = reports_note(facts, "example.com")
    assert note.startswith("Aggregate reports for example.com could not be read: cannot list "
                           "/home/e-smith/Maildir (the mailbox dmarc-feedback delivers to, account "
                           "admin): ")


async def test_a_5000_character_record_keeps_every_message_on_one_short_line(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    junk = "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; " + "y" * 5000
    auth_server.set_txt("_dmarc.example.com", [junk])
    facts, a = await audit(sim, dns)
    found = codes(a, "example.com")
    assert "5,000 characters" in found["DMARC007"].message and "…" in found["DMARC007"].message
    assert f"{len(junk):,} characters long" in found["DMARC007"].explanation
    for finding in a.findings:
        assert "\n" not in finding.message and len(finding.message) < 200, finding
    assert facts.domain("example.com").discovery.record_text == junk  # the full value stays in the facts


async def test_many_record_problems_are_counted_not_all_listed_in_the_message(sim_dns, auth_server):
    sim, dns = sim_dns("good")
    tags = "; ".join(f"x{i}=1" for i in range(30))
    auth_server.set_txt("_dmarc.example.com", [f"v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; {tags}"])
    _, a = await audit(sim, dns)
    warning = codes(a, "example.com")["DMARC007"]
    assert warning.message.endswith("(and 28 more)") and "unknown tag x29" in warning.explanation


async def test_a_subdomain_inheriting_its_organisational_domain_policy_says_so(sim_dns, auth_server):
    sim, dns = sim_dns("demo")
    auth_server.set_txt("_dmarc.example.net", ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.net"])
    _, a = await audit(sim, dns)
    inherited = codes(a, "shop.example.net")["DMARC005"]
    assert "policy comes from _dmarc.example.net, its organisational domain (RFC 9989 tree walk)" in inherited.message
    assert "_dmarc.shop.example.net, then _dmarc.example.net" in inherited.explanation
    assert "walking up the DNS tree" in inherited.explanation


async def test_no_record_on_a_subdomain_names_the_parent_the_walk_asked(sim_dns):
    sim, dns = sim_dns("demo")
    _, a = await audit(sim, dns)
    missing = codes(a, "shop.example.net")["DMARC001"]
    assert "nor at its parent _dmarc.example.net (RFC 9989 tree walk)" in missing.message
    assert "A record at _dmarc.example.net would also cover shop.example.net" in missing.explanation
    assert codes(a, "example.org")["DMARC001"].message == "no DMARC record for example.org"


async def test_a_failed_organisational_domain_lookup_says_it_is_the_parent_policy(sim_dns, auth_server):
    sim, dns = sim_dns("demo")
    auth_server.set_failure("_dmarc.example.net", "servfail")
    _, a = await audit(sim, dns)
    unknown = codes(a, "shop.example.net")["DMARC006"]
    assert unknown.message.startswith("shop.example.net has no record of its own, and the policy of its parent "
                                      "example.net, which would apply (RFC 9989 tree walk), is unknown")
    assert "walking up the DNS tree" in unknown.explanation
