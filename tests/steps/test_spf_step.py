"""The SPF step over the wire: probe against the embedded authoritative DNS server, then assess."""

from __future__ import annotations

import pytest

from smewizard.dns import Dns
from smewizard.host import LocalHost
from smewizard.mail.spf import parse_spf
from smewizard.model import Status
from smewizard.sme.config import SmeConfig
from smewizard.sme.db import parse_db
from smewizard.steps.base import Context, PublicIp, ServerFacts
from smewizard.steps.spf import STEP

SERVER_IP = "203.0.113.10"
RELAY_IP = "198.51.100.6"
PRIMARY = "example.com"
OTHER = "example.org"


def server_facts(domains=(PRIMARY,), public=(SERVER_IP,), relay_ips=(RELAY_IP,), relay_host="smtp.isp.example"):
    empty = SmeConfig(parse_db("configuration", ""), parse_db("domains", ""), parse_db("accounts", ""))
    return ServerFacts(
        config=empty,
        domains=tuple(domains),
        public_ips=tuple(PublicIp(ip, "--public-ip") for ip in public),
        public_ip_lookup=None,
        relay_host=relay_host if relay_ips or relay_host else None,
        relay_ips=tuple(relay_ips),
        relay_lookup=None,
    )


async def audit(dns: Dns, server: ServerFacts | None = None, networks=()):
    ctx = Context(host=LocalHost(None), dns=dns, spf_networks=tuple(networks))
    facts = await STEP.probe(ctx, server or server_facts())
    return facts, STEP.assess(facts)


def codes(assessment, domain=PRIMARY):
    return {(f.code, f.status) for f in assessment.findings if f.domain in (domain, None)}


def proposal(assessment, domain=PRIMARY):
    found = [r for r in assessment.records if r.domain == domain]
    assert len(found) <= 1
    return found[0].value if found else None


@pytest.fixture
def zones(make_zone):
    """example.com and example.org zones, plus an ISP zone with includes."""
    make_zone(PRIMARY, a={f"mail.{PRIMARY}": [SERVER_IP]}, mx={PRIMARY: [f"10 mail.{PRIMARY}."]})
    make_zone(OTHER)
    make_zone("113.0.203.in-addr.arpa")  # reverse zones: ptr evaluation gets NXDOMAIN, not an error
    make_zone("100.51.198.in-addr.arpa")
    return make_zone("isp.example", txt={"_spf.isp.example": [f"v=spf1 ip4:{RELAY_IP} -all"]})


async def test_complete_record_passes_for_server_and_relay(zones, dns_client):
    zones.set_txt(PRIMARY, ["v=spf1 mx include:_spf.isp.example ~all", "google-site-verification=abc"])
    facts, a = await audit(dns_client)
    assert codes(a) == {("SPF004", Status.PASS), ("SPF005", Status.PASS), ("SPF015", Status.PASS)}
    assert a.records == ()
    assert facts.domains[0].lookups.total == 2


async def test_relay_missing_fails_with_relay_explanation_and_proposal(zones, dns_client):
    zones.set_txt(PRIMARY, [f"v=spf1 ip4:{SERVER_IP} -all"])
    _, a = await audit(dns_client)
    relay = next(f for f in a.findings if f.code == "SPF005")
    assert relay.status is Status.FAIL
    assert "smarthost" in relay.explanation and "guide Part 1" in relay.explanation
    assert ("SPF009", Status.WARN) in codes(a)  # -all although the relay is missing
    assert proposal(a) == f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"


async def test_allocated_subnet_is_proposed_instead_of_single_ips(zones, dns_client):
    zones.set_txt(PRIMARY, ["v=spf1 mx ~all"])
    _, a = await audit(dns_client, server_facts(relay_ips=("203.0.113.6",)), networks=("203.0.113.0/24",))
    assert proposal(a) == "v=spf1 mx ip4:203.0.113.0/24 ~all"


async def test_every_hosted_domain_needs_its_own_record(zones, dns_client):
    zones.set_txt(PRIMARY, [f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"])
    _, a = await audit(dns_client, server_facts(domains=(PRIMARY, OTHER)))
    assert ("SPF015", Status.PASS) in codes(a, PRIMARY)
    assert ("SPF001", Status.FAIL) in codes(a, OTHER)
    assert proposal(a, PRIMARY) is None
    assert proposal(a, OTHER) == f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"


async def test_multiple_records_are_merged_into_one(zones, dns_client):
    zones.set_txt(PRIMARY, [f"v=spf1 ip4:{SERVER_IP} -all", "v=spf1 include:_spf.isp.example ~all"])
    facts, a = await audit(dns_client)
    assert ("SPF002", Status.FAIL) in codes(a)
    assert {e.result for e in facts.domains[0].evaluations} == {"permerror"}
    terms = proposal(a).split()  # DNS returns the two records in any order
    assert sorted(terms) == sorted(["v=spf1", f"ip4:{SERVER_IP}", "include:_spf.isp.example", "~all"])
    assert terms[0] == "v=spf1" and terms[-1] == "~all"


async def test_ptr_is_flagged_and_dropped(zones, dns_client):
    zones.set_txt(PRIMARY, [f"v=spf1 ptr ip4:{SERVER_IP} ip4:{RELAY_IP} -all"])
    _, a = await audit(dns_client)
    assert ("SPF006", Status.WARN) in codes(a)
    assert ("SPF009", Status.WARN) not in codes(a)  # everything passes: -all is fine
    assert proposal(a) == f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} -all"


@pytest.mark.parametrize(("ending", "code", "status"), [("+all", "SPF007", Status.FAIL), ("?all", "SPF008", Status.WARN), ("", "SPF008", Status.WARN)])
async def test_permissive_endings(zones, dns_client, ending, code, status):
    zones.set_txt(PRIMARY, [f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} {ending}".strip()])
    _, a = await audit(dns_client)
    assert (code, status) in codes(a)
    assert proposal(a).endswith(" ~all")


async def test_more_than_ten_lookups_fails(zones, dns_client):
    for i in range(6):
        zones.set_txt(f"s{i}.isp.example", ["v=spf1 a mx -all"])
    includes = " ".join(f"include:s{i}.isp.example" for i in range(6))
    zones.set_txt(PRIMARY, [f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} {includes} ~all"])
    facts, a = await audit(dns_client)
    assert facts.domains[0].lookups.total == 18
    assert ("SPF010", Status.FAIL) in codes(a)
    record = next(r for r in a.records if r.domain == PRIMARY) if a.records else None
    # a record that would still fail is a draft: shown, never among the records to publish
    assert record is None or ("still needs" in record.note and record.optional)


async def test_void_lookups_over_two_fail(zones, dns_client):
    zones.set_txt(PRIMARY, [f"v=spf1 a:gone1.{PRIMARY} a:gone2.{PRIMARY} a:gone3.{PRIMARY} ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"])
    facts, a = await audit(dns_client)
    assert facts.domains[0].lookups.void == 3
    assert ("SPF011", Status.FAIL) in codes(a)
    # receivers agree: pyspf hits the void limit before reaching the ip4 terms
    assert {e.result for e in facts.domains[0].evaluations} == {"permerror"}
    assert proposal(a) == f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"  # dead names dropped


async def test_include_of_a_domain_without_spf_is_broken(zones, dns_client):
    zones.set_txt(PRIMARY, [f"v=spf1 include:nospf.isp.example ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"])
    _, a = await audit(dns_client)
    assert ("SPF017", Status.FAIL) in codes(a)
    assert proposal(a) == f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"


def proposal_record(assessment):
    (record,) = [r for r in assessment.records if r.domain == PRIMARY]
    return record


async def test_obsolete_spf_rr_type_is_reported_never_proposed(zones, dns_client):
    record = f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"
    zones.set_txt(PRIMARY, [record])
    zones.set_records(PRIMARY, "SPF", [f'"{record}"'])
    _, a = await audit(dns_client)
    spf_rr = next(f for f in a.findings if f.code == "SPF012")
    assert spf_rr.status is Status.INFO
    assert "RFC 7208" in spf_rr.explanation
    assert all(r.rtype == "TXT" for r in a.records)
    zones.set_records(PRIMARY, "SPF", ['"v=spf1 mx -all"'])
    _, a = await audit(dns_client)
    assert ("SPF012", Status.WARN) in codes(a)
    zones.set_txt(PRIMARY, [f"v=spf1 ip4:{SERVER_IP} ~all"])  # the relay is missing: a proposal
    _, a = await audit(dns_client)
    assert "Delete the obsolete type-99 SPF record too." in proposal_record(a).note


@pytest.mark.parametrize("failure", ["timeout", "servfail"])
async def test_failed_txt_lookup_is_unknown_and_proposes_nothing(zones, dns_client, failure):
    zones.set_failure(PRIMARY, failure)
    facts, a = await audit(dns_client)
    assert codes(a) == {("SPF014", Status.UNKNOWN)}
    assert a.records == ()
    assert facts.domains[0].evaluations == ()


async def test_include_timeout_is_unknown_and_proposes_nothing(zones, dns_client):
    zones.set_txt(PRIMARY, ["v=spf1 ptr include:_spf.isp.example ~all"])
    zones.set_failure("_spf.isp.example", "timeout")
    _, a = await audit(dns_client)
    statuses = codes(a)
    assert ("SPF019", Status.UNKNOWN) in statuses
    assert ("SPF005", Status.UNKNOWN) in statuses  # the evaluation hit the timeout: temperror
    assert a.records == ()


async def test_unknown_public_ip_asks_for_public_ip_option(zones, dns_client):
    zones.set_txt(PRIMARY, ["v=spf1 ptr ~all"])
    _, a = await audit(dns_client, server_facts(public=(), relay_ips=(), relay_host=None))
    unknown = next(f for f in a.findings if f.code == "SPF013")
    assert unknown.status is Status.UNKNOWN and "--public-ip" in unknown.explanation
    assert a.records == ()


async def test_garbage_record_is_a_syntax_error_with_salvaged_proposal(zones, dns_client):
    zones.set_txt(PRIMARY, ["v=spf1 mx ip4:999.1.1.1 a:: include:_spf.isp.example %%% ~all"])
    _, a = await audit(dns_client)
    syntax = next(f for f in a.findings if f.code == "SPF003")
    assert syntax.status is Status.FAIL and "999.1.1.1" in syntax.message
    # the server passes through mx, the relay through the include: nothing to add
    assert proposal(a) == "v=spf1 mx include:_spf.isp.example ~all"


async def test_a_5000_character_txt_record_is_handled(zones, dns_client):
    huge = "v=spf1 " + " ".join(f"ip4:192.0.2.{i % 250}" for i in range(400)) + " ~all"
    assert len(huge) > 5000
    zones.set_txt(PRIMARY, [huge])
    facts, a = await audit(dns_client)
    assert facts.domains[0].records == (huge,)
    assert ("SPF016", Status.WARN) in codes(a)  # the repeats
    value = proposal(a)
    parse_spf(value)
    assert value.count("ip4:192.0.2.") == 250


async def test_ptr_dns_failure_does_not_block_the_proposal_that_removes_ptr(zones, dns_client):
    zones.set_txt(PRIMARY, [f"v=spf1 ptr ip4:{SERVER_IP} ~all"])
    zones.set_failure("100.51.198.in-addr.arpa", "servfail", subtree=True)  # the relay's PTR
    _, a = await audit(dns_client)
    assert ("SPF005", Status.UNKNOWN) in codes(a)
    assert proposal(a) == f"v=spf1 ip4:{SERVER_IP} ip4:{RELAY_IP} ~all"
