"""pyspf evaluation through our resolver, over the wire against the embedded DNS server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from smewizard.dns import Dns
from smewizard.dns.authserver import AuthServer
from smewizard.mail.spf import evaluate

D = "example.com"


@pytest.fixture
def resolver(make_zone, auth_server):
    make_zone(D, a={f"mail.{D}": ["192.0.2.10"], f"web.{D}": ["192.0.2.80"]}, mx={D: [f"10 mail.{D}."]})
    make_zone("isp.example", txt={"_spf.isp.example": ["v=spf1 ip4:198.51.100.0/24 -all"]})
    return Dns([auth_server.address], timeout=1.0).sync_resolver()


@pytest.mark.parametrize(
    ("record", "ip", "result"),
    [
        ("v=spf1 mx -all", "192.0.2.10", "pass"),
        ("v=spf1 mx -all", "192.0.2.80", "fail"),
        ("v=spf1 a:web.example.com ~all", "192.0.2.80", "pass"),
        ("v=spf1 a:web.example.com/24 ~all", "192.0.2.99", "pass"),  # a with CIDR
        ("v=spf1 ip4:192.0.2.0/28 ~all", "192.0.2.15", "pass"),
        ("v=spf1 ip4:192.0.2.0/28 ~all", "192.0.2.16", "softfail"),
        ("v=spf1 include:_spf.isp.example ?all", "198.51.100.25", "pass"),
        ("v=spf1 include:_spf.isp.example ?all", "203.0.113.1", "neutral"),  # include's -all does not leak
        ("v=spf1 redirect=_spf.isp.example", "203.0.113.1", "fail"),  # the target's -all applies
        ("v=spf1 include:nothing.isp.example ~all", "192.0.2.10", "permerror"),  # include without SPF
        ("v=spf1 a:g1.example.com a:g2.example.com a:g3.example.com ip4:192.0.2.10 ~all", "192.0.2.10", "permerror"),
        ("v=spf1 " + "a " * 11 + "~all", "203.0.113.1", "permerror"),  # more than 10 lookups
    ],
)
def test_rfc7208_semantics(auth_server, resolver, record, ip, result):
    auth_server.set_txt(D, [record])
    assert evaluate(resolver, D, ip).result == result


def test_two_records_are_a_permanent_error(auth_server, resolver):
    auth_server.set_txt(D, ["v=spf1 mx -all", "v=spf1 mx ~all"])  # (identical ones collapse in DNS)
    evaluation = evaluate(resolver, D, "192.0.2.10")
    assert evaluation.result == "permerror"
    assert "Two or more" in evaluation.detail


def test_no_record_is_none_and_timeout_is_temperror(auth_server, resolver):
    assert evaluate(resolver, D, "192.0.2.10").result == "none"
    auth_server.set_failure(D, "timeout")
    assert evaluate(resolver, D, "192.0.2.10", timeout=1.0).result == "temperror"


def test_concurrent_evaluations_each_ask_their_own_server(make_zone, auth_server):
    """Two servers say different things about the same domain; evaluations running at the
    same time in worker threads must never get the other's answers."""
    make_zone(D, txt={D: ["v=spf1 ip4:192.0.2.10 -all"]})
    with AuthServer() as other:
        other.add_zone(D)
        other.set_txt(D, ["v=spf1 -all"])
        first = Dns([auth_server.address], timeout=1.0).sync_resolver()
        second = Dns([other.address], timeout=1.0).sync_resolver()
        jobs = [(first, "pass"), (second, "fail")] * 40
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda job: evaluate(job[0], D, "192.0.2.10").result, jobs))
    assert results == [expected for _, expected in jobs]
