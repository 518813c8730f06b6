from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smewizard.mail.spamassassin import (
    BayesState,
    envelope_entry,
    parse_dump_magic,
    parse_threshold,
    read_dump_result,
    validate_thresholds,
)
from smewizard.sim.salearn import dump_magic
from smewizard.validate import InvalidValue

# Captured from Debian's SpamAssassin 4.0.1 after learning 200 spam and 200 ham.
REAL_OUTPUT = """\
0.000          0          3          0  non-token data: bayes db version
0.000          0        200          0  non-token data: nspam
0.000          0        200          0  non-token data: nham
0.000          0       2744          0  non-token data: ntokens
0.000          0 1704067200          0  non-token data: oldest atime
0.000          0 1704067200          0  non-token data: newest atime
0.000          0          0          0  non-token data: last journal sync atime
"""
EMPTY_STDERR = "ERROR: Bayes dump returned an error, please re-run with -D for more information\n"


def test_parses_real_dump():
    magic = parse_dump_magic(REAL_OUTPUT)
    assert (magic.nspam, magic.nham, magic.ntokens) == (200, 200, 2744)
    assert magic.values["bayes db version"] == 3


def test_empty_db_is_no_data_not_an_error():
    reading = read_dump_result(2, "", EMPTY_STDERR)
    assert reading.state is BayesState.NO_DATA


def test_other_failure_is_unknown():
    reading = read_dump_result(1, "", "Can't locate Mail/SpamAssassin.pm\n")
    assert reading.state is BayesState.UNKNOWN and "exited 1" in reading.detail


def test_garbage_is_unknown():
    assert read_dump_result(0, "hello\n", "").state is BayesState.UNKNOWN


@pytest.mark.parametrize(
    "nspam, nham, ntokens, state",
    [
        (0, 0, 0, BayesState.NO_DATA),
        (150, 900, 40_000, BayesState.INACTIVE),
        (200, 200, 2744, BayesState.LEARNING),
        (5000, 9000, 150_000, BayesState.WELL_TRAINED),
    ],
)
def test_verdicts(nspam, nham, ntokens, state):
    text = dump_magic({"nspam": nspam, "nham": nham, "ntokens": ntokens, "atime": 1})
    assert read_dump_result(0, text, "").state is state


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9))
def test_sim_output_round_trips(nspam, nham, ntokens):
    magic = parse_dump_magic(dump_magic({"nspam": nspam, "nham": nham, "ntokens": ntokens, "atime": 5}))
    assert (magic.nspam, magic.nham, magic.ntokens) == (nspam, nham, ntokens)


@pytest.mark.parametrize(
    "tag, reject, message",
    [
        ("abc", "12", "TagLevel 'abc' is not a plain number"),
        ("3,3", "12", "not a plain number"),
        ("5", "-1", "RejectLevel '-1' is not a plain number"),
        ("", "12", "TagLevel is empty"),
        ("5", "4", "RejectLevel 4 must be above TagLevel 5"),
        ("5", "5", "must be above TagLevel"),
        ("0", "0", "TagLevel must be above 0"),
        ("5", "1000", "RejectLevel '1000' is not a plain number"),
        ("5", "12|x", "not a plain number"),
    ],
)
def test_malformed_thresholds_give_clear_errors(tag, reject, message):
    with pytest.raises(InvalidValue, match=message.replace("(", r"\(").replace("|", r"\|")):
        validate_thresholds(tag, reject)


def test_reject_zero_means_never():
    levels = validate_thresholds("3.3", "0")
    assert levels.tag == 3.3 and not levels.rejects
    assert parse_threshold(" 12 ", "RejectLevel") == 12


@pytest.mark.parametrize("entry, expected", [("@Bad.Example", "@bad.example"), ("joe@bad.example", "joe@bad.example")])
def test_envelope_entries(entry, expected):
    assert envelope_entry(entry) == expected


@pytest.mark.parametrize("entry", ["bad.example", "@", "@bad", "a b@bad.example", "-x@bad.example", "@bad.example|Black"])
def test_bad_envelope_entries(entry):
    with pytest.raises(InvalidValue):
        envelope_entry(entry)
