"""DMARC record parsing, validation, building and the RFC 9989 tree walk over real DNS."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smewizard.mail import dmarc as dm
from smewizard.validate import InvalidValue


def test_a_full_rfc9989_record_parses_with_every_tag():
    text = "v=DMARC1; p=quarantine; sp=reject; np=reject; psd=n; t=y; adkim=s; aspf=r; rua=mailto:a@example.com,mailto:b@example.net!10m; ruf=mailto:f@example.com; fo=1:d"
    rec = dm.parse_record(text).record
    assert rec is not None and rec.valid
    assert (rec.policy, rec.subdomain_policy, rec.nonexistent_policy) == ("quarantine", "reject", "reject")
    assert rec.testing and rec.psd == "n" and rec.adkim == "s" and rec.aspf == "r"
    assert [u.address for u in rec.rua] == ["a@example.com", "b@example.net"]
    assert rec.rua[1].host == "example.net" and rec.fo == "1:d"
    assert rec.problems == ()


def test_defaults_apply_when_tags_are_absent():
    rec = dm.parse_record("v=DMARC1; p=none").record
    assert (rec.adkim, rec.aspf, rec.testing, rec.rua) == ("r", "r", False, ())


@pytest.mark.parametrize("text", ["p=none; v=DMARC1", "v=DMARC2; p=none", "v=spf1 -all", ""])
def test_a_record_not_starting_with_v_dmarc1_is_rejected(text):
    result = dm.parse_record(text)
    assert result.record is None and result.fatal
    assert "v=DMARC1" in result.problems[0].message


def test_removed_rfc7489_tags_warn_but_do_not_invalidate():
    rec = dm.parse_record("v=DMARC1; p=none; pct=100; rf=afrf; ri=86400").record
    assert rec.valid
    assert sorted(p.tag for p in rec.problems if p.removed) == ["pct", "rf", "ri"]
    assert all(not p.fatal for p in rec.problems)


def test_invalid_policy_is_fatal_other_bad_values_fall_back():
    bad_p = dm.parse_record("v=DMARC1; p=block").record
    assert not bad_p.valid and bad_p.effective_policy == "none"
    rec = dm.parse_record("v=DMARC1; p=none; adkim=x; t=maybe; fo=7; rua=http:nope; foo=bar").record
    assert rec.valid and rec.adkim == "r" and not rec.testing and rec.rua == ()
    messages = " ".join(p.message for p in rec.problems)
    assert "adkim" in messages and "fo=" in messages and "unknown tag foo" in messages and "http:nope" in messages


def test_a_duplicated_tag_is_fatal():
    assert not dm.parse_record("v=DMARC1; p=none; p=reject").record.valid


def test_missing_p_is_read_as_none_with_a_problem():
    rec = dm.parse_record("v=DMARC1; rua=mailto:x@example.com").record
    assert rec.policy is None and rec.effective_policy == "none"
    assert any(p.tag == "p" for p in rec.problems)


@given(st.text(max_size=200))
def test_parsing_never_raises(text):
    dm.parse_record(text)
    dm.parse_record("v=DMARC1; " + text)


def test_built_record_round_trips_and_never_has_pct():
    spec = dm.RecordSpec("example.com", policy="quarantine", rua=(dm.default_rua("example.com"),), testing=True)
    text = dm.build_record(spec)
    assert text == "v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:dmarc-feedback@example.com; t=y"
    rec = dm.parse_record(text).record
    assert rec.valid and rec.problems == () and rec.testing
    assert "pct" not in text


@pytest.mark.parametrize("kwargs", [
    {"policy": "block"}, {"adkim": "x"}, {"rua": ("mailto:a@example.com; p=none",)}, {"rua": ("ftp://x",)},
])
def test_record_spec_rejects_bad_values(kwargs):
    with pytest.raises(InvalidValue):
        dm.RecordSpec("example.com", **kwargs)


def test_walk_targets_shorten_long_names_and_stop_at_the_tld():
    assert dm.walk_targets("mail.example.com") == ["mail.example.com", "example.com", "com"]
    long = "a.b.c.d.e.f.g.h.i.example.com"
    targets = dm.walk_targets(long)
    assert targets[0] == long and len(targets[1].split(".")) == 7 and targets[-1] == "com"


def test_external_report_hosts_are_those_outside_the_organizational_domain():
    rec = dm.parse_record("v=DMARC1; p=none; rua=mailto:a@example.com,mailto:b@sub.example.com,mailto:c@reports.example.net").record
    assert [u.host for u in dm.external_report_hosts("example.com", rec, "example.com")] == ["reports.example.net"]
    assert dm.authorization_name("example.com", "reports.example.net") == "example.com._report._dmarc.reports.example.net"


# ------------------------------------------------------------------ tree walk over DNS
async def test_record_at_the_domain_is_found_first(make_zone, dns_client):
    make_zone("example.com", txt={"_dmarc.example.com": ["v=DMARC1; p=reject"], "_dmarc.shop.example.com": ["v=DMARC1; p=none"]})
    disc = await dm.discover("shop.example.com", dns_client.txt)
    assert disc.record_text == "v=DMARC1; p=none" and disc.found_at == "shop.example.com" and not disc.inherited
    assert disc.organizational_domain == "example.com"


async def test_a_subdomain_without_a_record_inherits_the_parents(make_zone, dns_client):
    make_zone("example.com", txt={"_dmarc.example.com": ["v=DMARC1; p=quarantine", "unrelated text"]})
    disc = await dm.discover("a.b.example.com", dns_client.txt)
    assert disc.record_text == "v=DMARC1; p=quarantine" and disc.found_at == "example.com" and disc.inherited
    assert [s.target for s in disc.steps][:3] == ["a.b.example.com", "b.example.com", "example.com"]


async def test_psd_n_fixes_the_organizational_domain(make_zone, dns_client):
    make_zone("example.com", txt={"_dmarc.dept.example.com": ["v=DMARC1; p=none; psd=n"], "_dmarc.example.com": ["v=DMARC1; p=reject"]})
    disc = await dm.discover("x.dept.example.com", dns_client.txt)
    assert disc.organizational_domain == "dept.example.com"


async def test_two_records_at_one_name_are_reported_as_multiple(make_zone, dns_client):
    make_zone("example.com", txt={"_dmarc.example.com": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]})
    disc = await dm.discover("example.com", dns_client.txt)
    assert disc.own.outcome == "multiple" and disc.record_text is None


async def test_a_failed_lookup_makes_the_walk_unknown_not_missing(make_zone, auth_server, dns_client):
    make_zone("example.com")
    auth_server.set_failure("_dmarc.example.com", "servfail")
    disc = await dm.discover("example.com", dns_client.txt)
    assert disc.failed and disc.record_text is None
