"""No value can inject a second command, an option, or a second db record.

Every action validates its values when it is built; a value that survives validation is one
argv element in a fixed position. Hypothesis throws arbitrary text at every field (option-like
"-x", newlines, "|", "=", NUL, unicode line separators and bidi controls) and checks both
halves: construction raises InvalidValue, or the argv that actually runs has exactly the
expected shape and the db reads back exactly the value written.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from smewizard import validate
from smewizard.actions.base import DelProp, SetProp, SignalEvent
from smewizard.actions.files import Chmod, Chown, MoveAside, WriteFile
from smewizard.host.base import CommandResult
from smewizard.sme.db import parse_db
from smewizard.validate import InvalidValue

HOSTILE = st.one_of(
    st.text(),
    st.text(alphabet=string.printable),
    st.sampled_from([
        "-", "--", "-rf", "--help", "a\nb", "a|b", "x=y", "a\x00b", "enabled\n", "qpsmtpd\n",
        "a\u2028b", "a\x85b", "a\u202eb", "a\rb", "\t", " ", "", "x" * 5000, "a;b", "$(id)", "`id`",
        "a b", "é", "ⅰ", "Ａ",
    ]),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=5),
              st.sampled_from(["\n", "|", "\x00", "\u2028", "\x85", "\u202e", "\r", "="]), st.text(max_size=5)),
)


class RecordingHost:
    """Records the argv of every command; serves a db file in which every key exists."""

    description = "recording host"

    def __init__(self, key: str = "qpsmtpd"):
        self.ran: list[tuple[str, ...]] = []
        self.key = key

    def run(self, argv, *, timeout=120.0, input_text=None):
        self.ran.append(tuple(argv))
        return CommandResult(tuple(argv), 0, "", "")

    def read_bytes(self, path, *, limit=None):
        return f"{self.key}=service|status|enabled\n".encode()


def built_or_invalid(factory):
    try:
        return factory()
    except InvalidValue:
        return None


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(db=HOSTILE, key=HOSTILE, prop=HOSTILE, value=HOSTILE)
@example(db="configuration", key="qpsmtpd", prop="DKIMSigning", value="-enabled")
@example(db="configuration", key="qpsmtpd\n", prop="DKIMSigning", value="enabled")
@example(db="configuration", key="qpsmtpd", prop="DKIMSigning", value="a\u2028b")
def test_setprop_is_refused_or_runs_exactly_one_six_element_db_command(db, key, prop, value):
    action = built_or_invalid(lambda: SetProp(db, key, prop, value))
    if action is None:
        return
    host = RecordingHost(key)
    action.execute(host)
    assert host.ran == [("db", db, "setprop", key, prop, value)]
    for element in (db, key, prop, value):
        assert not element.startswith("-")
        assert "\n" not in element and "\x00" not in element and "|" not in element
    # one record, one value: the line SME would write parses back to exactly this
    line = f"{key}=service|{prop}|{value}"
    parsed = parse_db(db, line + "\n")
    assert parsed.problems == () and parsed.prop(key, prop) == value and len(parsed.records) == 1


@settings(max_examples=200)
@given(db=HOSTILE, key=HOSTILE, prop=HOSTILE)
def test_delprop_is_refused_or_runs_exactly_one_five_element_command(db, key, prop):
    action = built_or_invalid(lambda: DelProp(db, key, prop))
    if action is None:
        return
    host = RecordingHost(key)
    action.execute(host)
    assert host.ran == [("db", db, "delprop", key, prop)]
    assert not any(e.startswith("-") or "\n" in e for e in (db, key, prop))


@settings(max_examples=200)
@given(event=HOSTILE, args=st.lists(HOSTILE, max_size=3))
def test_signal_event_is_refused_or_runs_exactly_its_arguments(event, args):
    action = built_or_invalid(lambda: SignalEvent(event, tuple(args)))
    if action is None:
        return
    host = RecordingHost()  # no run_stream: the streamed path falls back to run()
    action.execute(host)
    assert host.ran == [("signal-event", event, *args)]
    assert not any(e.startswith("-") or "\n" in e or "\x00" in e for e in (event, *args))


@settings(max_examples=200)
@given(path=HOSTILE, owner=HOSTILE, group=HOSTILE, mode=st.integers(-10, 0o20000))
def test_file_actions_refuse_option_like_or_broken_values(path, owner, group, mode):
    for factory in (lambda: Chown(path, owner, group), lambda: Chmod(path, mode), lambda: MoveAside(path),
                    lambda: WriteFile(path, "x", mode)):
        action = built_or_invalid(factory)
        if action is None:
            continue
        assert path.startswith("/") and "\n" not in path and "\x00" not in path
        for argv in action.commands():
            # the path always follows "--" or is a fixed-position operand after options
            assert "--" in argv or argv[0] == "install"
            assert argv[-1] != "--"


@pytest.mark.parametrize("bad", ["a\u2028b", "a\x85b", "a\u202eb", "a\u2066b", "a\ud800b", "enabled\n"])
def test_db_value_refuses_line_separators_and_bidi_controls(bad):
    with pytest.raises(InvalidValue):
        validate.db_value(bad)


@pytest.mark.parametrize("check", [validate.db_key, validate.db_name, validate.db_prop, validate.event_name,
                                   validate.user_name])
def test_a_trailing_newline_is_not_accepted_by_any_pattern(check):
    good = {"db_key": "qpsmtpd", "db_name": "configuration", "db_prop": "HeloHost",
            "event_name": "email-update", "user_name": "admin"}[check.__name__]
    assert check(good) == good
    with pytest.raises(InvalidValue):
        check(good + "\n")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=HOSTILE)
def test_accepted_values_round_trip_through_the_simulated_db(sim_root, value):
    """The `db` program (SME's behaviour, simulated) stores an accepted value as one prop."""
    from smewizard.sme.db import read_db

    action = built_or_invalid(lambda: SetProp("configuration", "qpsmtpd", "HeloHost", value))
    assume(action is not None)
    sim = ROOTS.setdefault("sim", sim_root("fresh"))
    host = sim.host()
    before = read_db(host, "configuration")
    action.execute(host)
    after = read_db(host, "configuration")
    assert after.problems == ()
    assert after.prop("qpsmtpd", "HeloHost") == value
    assert set(after.records) == set(before.records)


ROOTS: dict = {}


@pytest.mark.parametrize("bad", ["\u212aey.com", "exa\u0131mple.com", "exam\nple.com", "example.com\x00"])
def test_domain_names_refuse_unicode_that_lowercases_to_ascii_and_controls(bad):
    with pytest.raises(InvalidValue):
        validate.domain_name(bad)


@pytest.mark.parametrize("bad", ["\u212a", "sel\n", "-sel", "a.b", ""])
def test_selectors_refuse_unicode_tricks(bad):
    with pytest.raises(InvalidValue):
        validate.dns_label(bad)
