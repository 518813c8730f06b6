"""Records as the admin pastes them: one string, 255-octet chunks, zone-file lines."""

from __future__ import annotations

import dns.rdata
import dns.rdataclass
import dns.rdatatype
from hypothesis import given
from hypothesis import strategies as st

from smewizard.model import Assessment, Finding, Record, Status, txt_chunks, worst

DKIM_VALUE = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A" * 13 + "IDAQAB"


@given(st.text(max_size=2000))
def test_chunks_rejoin_to_the_value_and_respect_the_octet_limit(value):
    chunks = txt_chunks(value)
    assert "".join(chunks) == value
    assert all(len(c.encode("utf-8")) <= 255 for c in chunks)
    assert all(chunks) or chunks == [""]


def test_a_multibyte_character_is_never_cut():
    value = "é" * 200  # 400 octets: the cut must fall between two characters
    chunks = txt_chunks(value)
    assert [len(c.encode()) for c in chunks] == [254, 146]


def test_dkim_record_in_the_forms_a_registrar_needs():
    record = Record("nov2026._domainkey.example.com", "TXT", DKIM_VALUE, domain="example.com")
    assert record.relative_name("example.com") == "nov2026._domainkey"
    assert len(record.chunks()) == 2 and len(record.chunks()[0]) == 255
    quoted = record.quoted_chunks()
    assert quoted.startswith('"v=DKIM1; k=rsa; p=') and '" "' in quoted
    line = record.zone_line("example.com")
    assert line.startswith("nov2026._domainkey\t3600\tIN\tTXT\t( ")
    # the zone-file data parses back to the same value with a real DNS library
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, quoted)
    assert b"".join(rdata.strings).decode() == DKIM_VALUE


def test_quotes_and_backslashes_are_escaped_in_zone_form():
    record = Record("example.com", "TXT", 'a "quoted" \\ value')
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, record.quoted_chunks())
    assert b"".join(rdata.strings).decode() == 'a "quoted" \\ value'
    assert record.relative_name("example.com") == "@"
    assert record.relative_name("other.org") == "example.com."


def test_status_of_an_assessment_is_its_worst_finding():
    findings = (
        Finding("X1", Status.PASS, "ok", domain="a.example"),
        Finding("X2", Status.UNKNOWN, "?", domain="b.example"),
        Finding("X3", Status.WARN, "hm"),
    )
    assessment = Assessment("spf", findings)
    assert assessment.status is Status.UNKNOWN
    assert assessment.for_domain("a.example").status is Status.WARN  # server-wide stays
    assert worst([]) is Status.PASS
