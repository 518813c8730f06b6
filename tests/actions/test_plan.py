"""Plan files: every action type round-trips through JSON; a hostile or broken plan gives a
clear error naming the action and field, and nothing runs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smewizard.actions.base import DeleteRecord, DelProp, RestoreRecord, SetProp, SignalEvent
from smewizard.actions.files import Chmod, Chown, CopyTree, MakeDir, MoveAside, WriteFile
from smewizard.actions.plan import (
    PlanError,
    action_from_json,
    action_to_json,
    action_types,
    dump_plan,
    load_plan_text,
)

SAMPLES = [
    SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim"),
    SetProp("accounts", "dmarc-feedback", "Account", "admin", step="dmarc", record_type="pseudonym"),
    DelProp("configuration", "qpsmtpd", "HeloHost"),
    DeleteRecord("accounts", "dmarc-feedback"),
    RestoreRecord("accounts", "dmarc-feedback", "pseudonym", (("Account", "admin"),)),
    SignalEvent("pseudonym-create", ("dmarc-feedback",)),
    Chown("/home/e-smith/dkim_keys/example.com", "qpsmtpd", "qpsmtpd"),
    Chmod("/home/e-smith/dkim_keys/example.com/default", 0o400),
    MoveAside("/etc/qpsmtpd/dkim/example.com"),
    MakeDir("/home/e-smith/dkim_keys/example.org", 0o700, "qpsmtpd", "qpsmtpd"),
    CopyTree("/etc/qpsmtpd/dkim/example.com", "/home/e-smith/dkim_keys/example.com"),
    WriteFile("/home/e-smith/dkim_keys/example.com/selector", "nov2026\n", 0o644, "qpsmtpd", "qpsmtpd"),
]


@pytest.mark.parametrize("action", SAMPLES, ids=lambda a: type(a).__name__)
def test_every_action_round_trips_through_a_plan(action):
    (loaded,) = load_plan_text(dump_plan([action]))
    assert loaded == action and type(loaded) is type(action)


def test_every_action_type_the_steps_define_is_loadable():
    types = action_types()
    for name in ("SetProp", "SignalEvent", "MoveAside", "WriteFile"):
        assert name in types
    # a class name defined in two modules is only reachable by its qualified name
    qualified = {name.rsplit(".", 1)[1] for name in types if "." in name}
    for short in qualified:
        same = [n for n in types if n.endswith("." + short)]
        assert (short in types) == (len(same) == 1)
    assert types["smewizard.actions.files.Chown"] is Chown


def plan_with(entry) -> str:
    return json.dumps({"format": "smewizard-plan", "version": 1, "actions": [entry]})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "os.system", "fields": {}}, "unknown action type"),
        ({"type": "Action", "fields": {}}, "unknown action type"),
        ({"type": "SetProp", "fields": {"db": "configuration", "key": "qpsmtpd", "prop": "X", "value": "--help"}},
         "starts with '-'"),
        ({"type": "SetProp", "fields": {"db": "configuration", "key": "qpsmtpd", "prop": "X", "value": "a\nb"}},
         "newline"),
        ({"type": "SetProp", "fields": {"db": "configuration", "key": "q;rm -rf /", "prop": "X", "value": "a"}},
         "not a valid db key"),
        ({"type": "SetProp", "fields": {"db": "configuration", "key": "qpsmtpd", "prop": "X", "value": 5}},
         "must be text"),
        ({"type": "SetProp", "fields": {"db": "configuration", "key": "qpsmtpd", "prop": "X", "value": "a",
                                        "__class__": "x"}}, "unknown field"),
        ({"type": "SetProp", "fields": {"db": "configuration"}}, "missing"),
        ({"type": "Chmod", "fields": {"path": "/etc/shadow", "mode": "0777"}}, "whole number"),
        ({"type": "Chmod", "fields": {"path": "/../etc/shadow", "mode": 0o777}}, "'..'"),
        ({"type": "MoveAside", "fields": {"path": "relative/path"}}, "absolute"),
        ({"type": "SignalEvent", "fields": {"event": "email-update", "args": "x"}}, "must be a list"),
        ({"type": "SignalEvent", "fields": {"event": "email-update; reboot"}}, "not a valid event"),
        ("SetProp", "must be an object"),
    ],
)
def test_hostile_plan_entries_are_refused_with_a_clear_message(entry, message):
    with pytest.raises(PlanError, match=message):
        load_plan_text(plan_with(entry))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"format": "other"}', "not a smewizard plan"),
        ('{"format": "smewizard-plan", "version": 99, "actions": []}', "version 99"),
        ('{"format": "smewizard-plan", "version": 1}', "no 'actions' list"),
        ("[" * 100000 + "]" * 100000, "not valid JSON|must be a JSON object"),
        ('{"format": "smewizard-plan", "version": 1, "actions": [' + ",".join(["{}"] * 501) + "]}",
         "more than 500"),
    ],
)
def test_broken_plan_files_are_refused(text, message):
    with pytest.raises(PlanError, match=message):
        load_plan_text(text)


@settings(max_examples=300)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=20))
def test_any_json_is_either_a_valid_plan_or_a_plan_error(data):
    text = json.dumps({"format": "smewizard-plan", "version": 1, "actions": [data]})
    try:
        actions = load_plan_text(text)
    except PlanError:
        return
    assert all(action_from_json(action_to_json(a)) == a for a in actions)


def test_check_json_output_is_accepted_as_a_plan():
    action = SAMPLES[0]
    check_output = {"schema": 1, "steps": {"dkim": {"actions": [
        {"summary": action.summary(), "commands": action.shell(), "action": action_to_json(action)}]}}}
    assert load_plan_text(json.dumps(check_output)) == [action]
