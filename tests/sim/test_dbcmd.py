"""The simulated `db`/`config` programs, run through the real shims on PATH (LocalHost.run)."""

from __future__ import annotations

import pytest

from smewizard.sme.db import parse_db


@pytest.fixture
def sim(sim_root):
    return sim_root("demo")


def run(sim, *argv):
    return sim.host().run(list(argv))


def db_text(sim, name="configuration"):
    return (sim.root / "home/e-smith/db" / name).read_text()


def test_show_prints_type_then_indented_sorted_props(sim):
    result = run(sim, "db", "configuration", "show", "spamassassin")
    assert result.returncode == 0
    assert result.stdout == (
        "spamassassin=service\n"
        "    RejectLevel=0\n"
        "    Sensitivity=medium\n"
        "    SortSpam=enabled\n"
        "    TagLevel=5\n"
        "    status=enabled\n"
    )


def test_show_of_plain_key_has_no_prop_lines(sim):
    assert (
        run(sim, "db", "configuration", "show", "DomainName").stdout == "DomainName=example.com\n"
    )


def test_get_prints_raw_value_and_gettype_only_the_type(sim):
    assert run(sim, "config", "get", "DomainName").stdout == "example.com\n"
    raw = run(sim, "db", "configuration", "get", "smtpd").stdout
    assert raw == "service|status|enabled\n"
    assert run(sim, "db", "configuration", "gettype", "smtpd").stdout == "service\n"


def test_getprop_and_print(sim):
    assert (
        run(sim, "db", "configuration", "getprop", "qpsmtpd", "DKIMSigning").stdout == "disabled\n"
    )
    assert (
        run(sim, "db", "configuration", "print", "smtpd").stdout == "smtpd=service|status|enabled\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("db", "configuration", "get", "NoSuchKey"),
        ("db", "configuration", "getprop", "NoSuchKey", "X"),
        ("db", "configuration", "getprop", "qpsmtpd", "NoSuchProp"),
        ("db", "configuration", "show", "NoSuchKey"),
        ("db", "configuration", "delete", "NoSuchKey"),
    ],
)
def test_missing_key_or_prop_prints_nothing_and_exits_1(sim, argv):
    result = run(sim, *argv)
    assert (result.returncode, result.stdout) == (1, "")


def test_setprop_on_missing_key_does_nothing_and_exits_0(sim):
    before = db_text(sim)
    result = run(sim, "db", "configuration", "setprop", "NoSuchKey", "Prop", "x")
    assert (result.returncode, result.stdout) == (0, "")
    assert db_text(sim) == before


def test_setprop_changes_one_prop_and_keeps_every_other_record(sim):
    before = parse_db("configuration", db_text(sim)).records
    assert run(sim, "db", "configuration", "setprop", "qpsmtpd", "HeloHost", "mail.example.com").ok
    after = parse_db("configuration", db_text(sim)).records
    assert after["qpsmtpd"].props == {**before["qpsmtpd"].props, "HeloHost": "mail.example.com"}
    assert {k: v for k, v in after.items() if k != "qpsmtpd"} == {
        k: v for k, v in before.items() if k != "qpsmtpd"
    }


def test_set_replaces_the_whole_record(sim):
    assert run(sim, "db", "configuration", "set", "qpsmtpd", "service", "status", "disabled").ok
    assert (
        run(sim, "db", "configuration", "show", "qpsmtpd").stdout
        == "qpsmtpd=service\n    status=disabled\n"
    )


def test_delprop_and_delete(sim):
    assert run(sim, "db", "configuration", "delprop", "spamassassin", "SortSpam").ok
    assert "SortSpam" not in run(sim, "db", "configuration", "show", "spamassassin").stdout
    assert run(sim, "db", "configuration", "delete", "TimeZone").ok
    assert run(sim, "db", "configuration", "get", "TimeZone").returncode == 1


def test_file_is_rewritten_with_header_in_byte_order(sim):
    run(sim, "db", "configuration", "set", "aaa", "service", "Zeta", "1", "Alpha", "2", "beta", "3")
    text = db_text(sim)
    lines = text.splitlines()
    assert lines[0] == "# DO NOT MODIFY THIS FILE."
    assert any(line.startswith("# updated: ") for line in lines[:6])
    keys = [line.split("=", 1)[0] for line in lines if not line.startswith("#")]
    assert keys == sorted(keys, key=str.encode)  # upper case before lower case
    assert "aaa=service|Alpha|2|Zeta|1|beta|3" in lines
    assert not list((sim.root / "home/e-smith/db").glob(".*tmp"))  # no temp file left behind


def test_newline_in_value_is_stored_as_backslash_n(sim):
    run(sim, "db", "configuration", "setprop", "qpsmtpd", "Note", "a\nb")
    assert "Note|a\\nb|" in db_text(sim)
    assert run(sim, "db", "configuration", "getprop", "qpsmtpd", "Note").stdout == "a\nb\n"


def test_keys_lists_every_key_sorted(sim):
    keys = run(sim, "db", "domains", "keys").stdout.splitlines()
    assert keys == ["example.com", "example.org", "shop.example.net"]


def test_every_change_is_logged_as_old_and_new(sim):
    run(sim, "db", "configuration", "setprop", "qmail", "DoubleBounceTo", "devnull")
    log = (sim.root / "var/log/messages").read_text()
    assert "/home/e-smith/db/configuration: OLD qmail=service|" in log
    assert "NEW qmail=service|DelegateMailServer||DoubleBounceTo|devnull|" in log


def test_usage_errors_exit_1_and_change_nothing(sim):
    before = db_text(sim)
    for argv in (
        ("db",),
        ("db", "configuration", "frobnicate"),
        ("db", "configuration", "setprop", "qpsmtpd", "X"),
    ):
        result = run(sim, *argv)
        assert result.returncode == 1 and "usage" in result.stderr
    assert db_text(sim) == before


def test_db_reader_sees_shim_written_file_without_problems(sim):
    run(sim, "db", "accounts", "set", "dmarc-feedback", "pseudonym", "Account", "admin")
    db = parse_db("accounts", (sim.root / "home/e-smith/db/accounts").read_text())
    assert db.problems == ()
    assert db.prop("dmarc-feedback", "Account") == "admin"


def test_pipe_in_value_corrupts_the_record_as_on_sme(sim):
    # SME's db does not escape "|": the wizard must validate values, never rely on escaping.
    run(sim, "db", "configuration", "setprop", "qpsmtpd", "Note", "a|b")
    db = parse_db("configuration", db_text(sim))
    assert db.prop("qpsmtpd", "Note") == "a"
    assert db.problems
