"""SPF record parsing (RFC 7208 section 4.6 / 12 grammar) and what the parsed record reports."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smewizard.mail.spf import (
    SpfSyntaxError,
    is_spf_record,
    parse_spf,
    parse_term,
    propose_spf,
    salvage_spf,
)


def test_terms_keep_qualifier_name_value_and_cidr():
    p = parse_spf("v=spf1 mx a:mail.example.com/24//64 -ip4:192.0.2.0/24 ip6:2001:db8::/32 "
                  "include:_spf.example.net ~all exp=explain.%{d}")
    assert [(t.qualifier, t.name, t.value) for t in p.mechanisms] == [
        ("+", "mx", ""),
        ("+", "a", "mail.example.com"),
        ("-", "ip4", "192.0.2.0"),
        ("+", "ip6", "2001:db8::"),
        ("+", "include", "_spf.example.net"),
        ("~", "all", ""),
    ]
    a = p.mechanisms[1]
    assert (a.cidr4, a.cidr6) == (24, 64)
    assert p.mechanisms[3].cidr6 == 32
    assert p.exp == "explain.%{d}"
    assert p.all_qualifier == "~"


def test_reports_ptr_all_redirect_and_duplicates():
    p = parse_spf("v=spf1 ptr a a ?all redirect=_spf.example.net")
    assert p.uses_ptr
    assert p.all_qualifier == "?"
    assert p.redirect == "_spf.example.net"
    assert p.redirect_ignored  # an `all` is present, so the redirect never applies
    assert p.duplicates == ("a",)
    assert p.local_lookups == 4  # ptr, a, a, redirect


def test_version_is_case_insensitive_and_bare_version_is_valid():
    assert parse_spf("V=SPF1").terms == ()
    assert parse_spf("v=spf1   -all").all_qualifier == "-"  # several spaces between terms


@pytest.mark.parametrize("txt", ["v=spf10 -all", "v=spf2.0/pra -all", "spf1 -all", "google-site-verification=x"])
def test_other_txt_records_are_not_spf(txt):
    assert not is_spf_record(txt)
    with pytest.raises(SpfSyntaxError, match="v=spf1"):
        parse_spf(txt)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("v=spf1 foo -all", "unknown mechanism 'foo'"),
        ("v=spf1 ip4:192.0.2", "not an IP address"),
        ("v=spf1 ip4:2001:db8::1", "not an IPv4 address"),
        ("v=spf1 ip4:192.0.2.0/33", "prefix length"),
        ("v=spf1 ip6:2001:db8::/129", "prefix length"),
        ("v=spf1 include", "include needs a domain"),
        ("v=spf1 include:", "empty domain"),
        ("v=spf1 -all:foo", "takes no argument"),
        ("v=spf1 a:localhost", "not a valid domain"),
        ("v=spf1 a:example.com/40", "0-32"),
        ("v=spf1 include:example.com/24", "CIDR"),
        ("v=spf1 redirect=a.example redirect=b.example", "more than once"),
        ("v=spf1 exp=", "needs a domain"),
        ("v=spf1 a:%{z}.example.com", "invalid macro"),
        ("v=spf1 a:ex%ample.com", "invalid macro"),
        ("v=spf1 a:bücher.example", "non-ASCII"),
        ("v=spf1 mx\t-all", "spaces only"),
        ("v=spf1 =a", "unknown mechanism"),
    ],
)
def test_syntax_errors_say_which_term_and_why(record, message):
    with pytest.raises(SpfSyntaxError, match=message):
        parse_spf(record)


def test_unknown_modifiers_are_allowed():
    p = parse_spf("v=spf1 -all moo.cow-far_out=man:dog/cat")
    assert [t.name for t in p.modifiers] == ["moo.cow-far_out"]


def test_macros_in_domain_specs_are_accepted():
    p = parse_spf("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} include:%{d2}")
    assert p.mechanisms[0].value == "%{ir}.%{l1r+-}._spf.%{d}"


def test_canonical_drops_explicit_plus_and_lowercases():
    assert parse_term("+MX/24").canonical() == "mx/24"
    assert parse_term("-IP4:192.0.2.1").canonical() == "-ip4:192.0.2.1"
    assert parse_term("ip6:2001:db8::/32").canonical() == "ip6:2001:db8::/32"
    assert parse_term("a/24//64").canonical() == "a/24//64"


@pytest.mark.parametrize("term", ["a/", "a//", "mx/24//", "a/24/", "ip4:192.0.2.1/", "ip6:2001:db8::1//64"])
def test_malformed_cidr_lengths_are_errors(term):
    with pytest.raises(SpfSyntaxError):
        parse_term(term)


def test_salvage_keeps_only_valid_terms_of_broken_records():
    salvaged = salvage_spf(["v=spf1 mx foo ip4:192.0.2.300 ip4:192.0.2.1 -all", "v=spf1 include:x.example.net"])
    assert [t.canonical() for t in salvaged.terms] == ["mx", "ip4:192.0.2.1", "-all", "include:x.example.net"]
    assert salvage_spf(["v=spf1 garbage"]) is None


def test_a_5000_character_record_parses_or_fails_cleanly():
    long_record = "v=spf1 " + " ".join(f"ip4:192.0.{i // 256}.{i % 256}" for i in range(330)) + " -all"
    assert len(long_record) > 5000
    assert len(parse_spf(long_record).mechanisms) == 331
    with pytest.raises(SpfSyntaxError):
        parse_spf("v=spf1 " + "x" * 5000)


_SPF_ALPHABET = st.sampled_from(
    list("v=spf1 :/.-+~?%{}_aimxptr0123456789lodsncex4l6")
    + ["include", "ip4:", "ip6:", "::", "all", "redirect=", "exp=", "%{d}", "example.com", "\t", "é", "\x00"]
)
_SPF_TEXT = st.one_of(st.text(max_size=200), st.lists(_SPF_ALPHABET, max_size=60).map(lambda p: "v=spf1 " + "".join(p)))


@settings(max_examples=400, deadline=None)
@given(_SPF_TEXT)
def test_parser_never_crashes_only_syntax_errors(text):
    try:
        parsed = parse_spf(text)
    except SpfSyntaxError as exc:
        assert str(exc)
        return
    for term in parsed.terms:  # every accepted term re-parses to the same meaning
        assert parse_term(term.canonical()).canonical() == term.canonical()


@settings(max_examples=300, deadline=None)
@given(_SPF_TEXT)
def test_a_proposal_from_any_published_text_is_one_valid_record(text):
    proposal = propose_spf(salvage_spf([text]), ["203.0.113.10"], ["2001:db8::25"])
    parsed = parse_spf(proposal)
    assert parsed.all_qualifier in ("~", None)
    assert not parsed.uses_ptr
