"""The e-smith db reader (smewizard.sme.db) on real-format and hostile files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smewizard.host import LocalHost
from smewizard.sme.db import DbFormatError, DbRecord, format_record, parse_db, read_db

HEADER = (
    "# DO NOT MODIFY THIS FILE.\n"
    "# This file is automatically maintained by the Mitel Networks SME Server\n"
    "#\n"
    "# updated: Wed Nov 25 01:23:51 2026\n"
)


def test_real_format_records_plain_values_and_comments():
    db = parse_db(
        "configuration",
        HEADER
        + "DomainName=example.com\n"
        + "qpsmtpd=service|DKIMSigning|enabled|HeloHost|mail.example.com|status|enabled\n"
        + "  # an indented comment\n\n",
    )
    assert db.problems == ()
    assert db.get("DomainName") == DbRecord("DomainName", "example.com", {})
    assert db.prop("qpsmtpd", "HeloHost") == "mail.example.com"
    assert db.get("qpsmtpd").type == "service"


def test_empty_values_are_kept():
    db = parse_db("configuration", "qmail=service|DelegateMailServer||status|enabled\nEmpty=\n")
    assert db.prop("qmail", "DelegateMailServer") == ""
    assert db.get("Empty").type == ""
    assert db.problems == ()


def test_value_may_contain_equals_signs_and_spaces():
    db = parse_db("accounts", "bob=user|FirstName|Bob = Jr|LastName|Smith Jones\n")
    assert db.prop("bob", "FirstName") == "Bob = Jr"
    assert db.prop("bob", "LastName") == "Smith Jones"


def test_backslash_n_is_a_newline_in_values_and_round_trips():
    db = parse_db("configuration", "motd=service|Text|line1\\nline2\n")
    assert db.prop("motd", "Text") == "line1\nline2"
    assert format_record(db.get("motd")) == "motd=service|Text|line1\\nline2"


def test_garbage_lines_are_problems_not_crashes_and_good_lines_survive():
    text = "this line has no equals sign\n=novalue\n bad key=x\nok=service|a|1\n\x00\x01=\n"
    db = parse_db("configuration", text)
    assert db.prop("ok", "a") == "1"
    reasons = [p.reason for p in db.problems]
    assert any("no '='" in r for r in reasons)
    assert sum("invalid key" in r for r in reasons) == 2
    assert [p.line_number for p in db.problems][:3] == [1, 2, 3]


def test_duplicate_key_later_line_wins_and_is_reported():
    db = parse_db("configuration", "SystemName=old\nSystemName=mail\n")
    assert db.get("SystemName").type == "mail"
    assert [p.line_number for p in db.problems] == [2]
    assert "duplicate key" in db.problems[0].reason


def test_odd_fields_read_as_sme_reads_them_and_reported():
    # A value with an unescaped "|" (SME's db writes it raw) shifts every later field.
    db = parse_db("configuration", "qpsmtpd=service|Note|a|b|status|enabled\n")
    record = db.get("qpsmtpd")
    assert record is not None
    assert record.props == {"Note": "a", "b": "status", "enabled": ""}
    assert "odd number" in db.problems[0].reason


def test_single_property_without_value_is_empty():
    db = parse_db("configuration", "flag=service|enabled\n")
    assert db.get("flag").props == {"enabled": ""}
    assert db.problems


def test_duplicate_property_later_wins_and_is_reported():
    db = parse_db(
        "configuration", "qmail=service|DoubleBounceTo|postmaster|DoubleBounceTo|devnull\n"
    )
    assert db.prop("qmail", "DoubleBounceTo") == "devnull"
    assert "appears twice" in db.problems[0].reason


def test_empty_property_name_is_ignored_and_reported():
    db = parse_db("configuration", "x=service||v|status|enabled\n")
    assert db.get("x").props == {"status": "enabled"}
    assert "empty property name" in db.problems[0].reason


def test_crlf_line_endings_are_tolerated():
    db = parse_db("configuration", "DomainName=example.com\r\nqpsmtpd=service|status|enabled\r\n")
    assert db.get("DomainName").type == "example.com"
    assert db.prop("qpsmtpd", "status") == "enabled"


def test_only_newline_separates_records():
    # U+2028 / NEL / form feed inside a value must not split the record (Perl splits at \n only).
    db = parse_db("accounts", "bob=user|FirstName|Bob\u2028Jr|LastName|B\x0cC\x85D\nalice=user\n")
    assert db.prop("bob", "FirstName") == "Bob\u2028Jr"
    assert db.prop("bob", "LastName") == "B\x0cC\x85D"
    assert db.get("alice") is not None
    assert db.problems == ()


def test_key_value_records_and_of_type():
    db = parse_db("domains", "example.com=domain|Content|Primary\nexample.org=domain\nx=other\n")
    assert [r.key for r in db.of_type("domain")] == ["example.com", "example.org"]


def test_read_db_missing_file_and_binary_file(tmp_path):
    host = LocalHost(tmp_path)
    (tmp_path / "home/e-smith/db").mkdir(parents=True)
    missing = read_db(host, "accounts")
    assert missing.records == {} and "does not exist" in missing.problems[0].reason
    (tmp_path / "home/e-smith/db/accounts").write_bytes(b"admin=system\x00\x00")
    with pytest.raises(DbFormatError, match="NUL"):
        read_db(host, "accounts")


def test_read_db_invalid_utf8_is_replaced_not_fatal(tmp_path):
    (tmp_path / "home/e-smith/db").mkdir(parents=True)
    (tmp_path / "home/e-smith/db/accounts").write_bytes(b"bob=user|FirstName|B\xe9b\n")
    db = read_db(LocalHost(tmp_path), "accounts")
    assert db.prop("bob", "FirstName") == "B\ufffdb"


_text = st.text(
    alphabet=st.characters(blacklist_characters="|\n\r", blacklist_categories=("Cs",)), max_size=20
)
_key = st.from_regex(r"[A-Za-z0-9@_][A-Za-z0-9@._+-]{0,20}", fullmatch=True)


@given(
    key=_key,
    rtype=_text.filter(lambda t: "\\n" not in t),
    props=st.dictionaries(_key, _text.filter(lambda t: "\\n" not in t), max_size=5),
)
def test_format_then_parse_round_trips(key, rtype, props):
    record = DbRecord(key, rtype, props)
    db = parse_db("x", format_record(record) + "\n")
    if not props and rtype == "":
        assert db.get(key) == DbRecord(key, "", {})
    else:
        assert db.get(key) == record


@given(st.text(max_size=300))
def test_any_text_parses_without_exception(text):
    db = parse_db("fuzz", text)
    assert isinstance(db.problems, tuple)
