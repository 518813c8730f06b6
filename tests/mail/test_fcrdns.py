from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smewizard.mail.fcrdns import (
    Agreement,
    Seen,
    agreement_diagram,
    generic_ptr,
    hosted_domain_of,
    provider_request,
)


@pytest.mark.parametrize(
    "name, ip",
    [
        ("static-203-0-113-10.isp.example.net", "203.0.113.10"),
        ("10.113.0.203.static.isp.example.net", None),
        ("cb00710a.rev.example.net", "203.0.113.10"),
        ("ip-203-0-113-10.eu-west-1.compute.internal", None),
        ("host45.provider.example", None),
        ("dsl-pool.dynamic.isp.example", None),
        ("ec2-203-0-113-10.compute-1.amazonaws.com", "203.0.113.10"),
    ],
)
def test_provider_generated_names_are_generic(name, ip):
    assert generic_ptr(name, ip).generic


@pytest.mark.parametrize(
    "name", ["mail.example.com", "server.example.com", "nowata.example.com", "mx1.example.org"]
)
def test_real_host_names_are_not_generic(name):
    assert not generic_ptr(name, "203.0.113.10").generic


@given(st.ip_addresses(v=4))
def test_dashed_ip_in_name_is_always_generic(addr):
    name = "mail-" + str(addr).replace(".", "-") + ".example.net"
    assert generic_ptr(name, str(addr)).generic


def test_hosted_domain_match():
    assert hosted_domain_of("www.other.org", ["example.com", "other.org"]) == "other.org"
    assert hosted_domain_of("notother.org", ["other.org"]) is None


def test_diagram_marks_unknown_with_question_mark():
    a = Agreement("203.0.113.10", Seen.UNKNOWN, None, Seen.ABSENT, (), "mail.example.com", "mail.example.com")
    text = agreement_diagram(a)
    assert "PTR ?" in text and "back to 203.0.113.10: ?" in text


def test_diagram_shows_mismatch():
    a = Agreement("203.0.113.10", Seen.FOUND, "mx.example.com", Seen.FOUND, ("198.51.100.1",), None, "mail.example.com")
    text = agreement_diagram(a)
    assert "back to 203.0.113.10: ✗" in text
    assert "(HeloHost unset)" in text


def test_provider_request_for_ipv6_mentions_aaaa():
    text = provider_request("2001:db8::25", "mail.example.com", "x.example.net")
    assert "AAAA record" in text and "currently points to x.example.net" in text


def test_provider_request_says_will_for_what_is_not_done_yet():
    # QA3 L5: before the HELO fix the request claimed the server already announced the FQDN
    done = provider_request("203.0.113.10", "mail.example.com", None)
    assert "has an A record" in done and "announces itself as" in done and "the three agree" in done
    pending = provider_request("203.0.113.10", "mail.example.com", None, helo_ok=False)
    assert "will announce itself as mail.example.com" in pending and "the three will agree" in pending
    assert "will have an A record" in provider_request("203.0.113.10", "mail.example.com", None, forward_ok=False)
