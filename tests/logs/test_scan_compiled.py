"""The compiled scan loop (smewizard/logs/_scan.c) and the pure-Python loop agree on any log:
realistic transactions, hostile lines, bad labels and arbitrary block boundaries."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smewizard.logs.scan import LogSummary, scan_chunks
from smewizard.logs.tai64n import encode
from tests.logs.conftest import require_compiled_loop

T0 = 1_795_570_000.0

LABELS = [encode(T0).encode(), encode(T0 + 3600.5).encode(), b"@zzzzzzzzzzzzzzzzzzzzzzzz", b"@4000", b"", b"@"]
PIDS = [b"100", b"200", b"3", b"", b"12345678901234567890", b"1 2"]
HOOKS = [b"(data_post_headers) ", b"(data_post) ", b"(deny) ", b"(mail) ", b"", b") ", b"(x"]
MESSAGES = [
    b"dkim: pass, we signed the message",
    b"dkim: pass, we signed the message) dkim: skip, DKIM not configured for other.example",
    b"dkim: pass, we signed the messages and more",
    b"dkim: pass, valid signature, accept policy",
    b"dkim: skip, DKIM not configured for Example.COM",
    b"dkim: skip, DKIM not configured for ",
    b"dkim: info, using example.com key for sub.example.com",
    b"dkim: info, using ",
    b"dkim: error, unable to read dkim key from config/dkim/example.org/private",
    b"dkim: error, x",
    b"spamassassin: pass, Ham, -1.2 < 12",
    b"spamassassin: passive",
    b"spamassassin: fail, tolerated, Spam, 9 > 5",
    b"spamassassin: fail, Spam, 14.1 > 12",
    b"spamassassin: ",
    b"virus::clamav: pass, clean",
    b"virus::: pass",
    b"virus::clam_av: fail, found virus Eicar",
    b"virus::clamdscan:pass",
    b"clamav: pass",
    b"clamdscan: fail, found virus X",
    b"clamdscan: skip",
    b"check_badmailfrom: fail, bad sender",
    b"check_badmailfromto: fail, bad pair",
    b"check_badmailfrom: pass",
    b"check_badmailfrom:fail",
    b"badmailfrom: fail, Your envelope sender is in my badmailfrom list",
    b"badmailfromto: failing",
    b"badmailfrom: skip",
    b"logging::logterse: ` 192.0.2.1\tws.example\tws.example\t<alice@Example.COM>\t<r@x.example>\tqueue\t250\tQueued!",
    b"logging::logterse: ` 192.0.2.1\tws.example\tws.example\t<bob@example.org>>\t<r@x.example>\tqueue\t250\tok",
    b"logging::logterse: ` 192.0.2.1\th\th\t<nobody>\t<r@x>\tqueue\t250\tok",
    b"logging::logterse: ` 192.0.2.1\th\th\t<x@y>",
    b"logging::logterse: ` 198.51.100.7\tmx\tmx\t<spam@bad.example>\t<u@example.com>\tbadmailfrom\t550\tno",
    b"logging::logterse: ",
    b"dispatching MAIL FROM: <carol@Mail-From.example>",
    b"helo: pass",
    b"\xff\x00 ) ) dkim: \t",
]
NOISE = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b" "))


@st.composite
def lines(draw) -> bytes:
    label = draw(st.sampled_from(LABELS))
    head = label + (b" " if label and draw(st.booleans()) else b"") + draw(st.sampled_from(PIDS)) + b" "
    body = draw(st.sampled_from(HOOKS)) + draw(st.sampled_from(MESSAGES))
    if draw(st.integers(0, 9)) == 0:
        body = draw(NOISE) + body + draw(NOISE)
    return head + body


@st.composite
def logs(draw) -> tuple[bytes, list[int]]:
    text = b"".join(line + b"\n" for line in draw(st.lists(lines(), max_size=40)))
    if draw(st.booleans()):
        text = text.rstrip(b"\n")  # a file that ends in the middle of a line
    cuts = sorted(draw(st.lists(st.integers(0, max(len(text), 1)), max_size=6)))
    return text, cuts


def blocks(text: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]


def seen(summary: LogSummary) -> tuple:
    return summary.to_json(), summary.bad_labels


@pytest.fixture(autouse=True, params=["both"])
def scan_loop():
    """Overrides the package's two-way fixture: these tests run both loops themselves."""
    require_compiled_loop()


@settings(max_examples=int(os.environ.get("SMEWIZARD_FUZZ_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_compiled_and_python_loops_agree_on_any_log(log):
    text, cuts = log
    compiled = scan_chunks([("current", blocks(text, cuts))], compiled=True)
    python = scan_chunks([("current", blocks(text, cuts))], compiled=False)
    assert seen(compiled) == seen(python)


def test_the_equivalence_test_sees_what_matters():
    # the generated logs do exercise attribution, skips, verdicts and badmailfrom: a loop that
    # ignored any of them would differ here
    text = b"".join(encode(T0).encode() + b" " + line + b"\n" for line in [
        b"100 (data_post_headers) dkim: pass, we signed the message",
        b"200 (data_post_headers) dkim: info, using example.com key for sub.example.com",
        b"200 (data_post_headers) dkim: pass, we signed the message",
        b"100 (deny) " + MESSAGES[29],
        b"300 (data_post_headers) " + MESSAGES[4],
        b"300 (data_post) " + MESSAGES[12],
        b"300 (data_post) " + MESSAGES[17],
        b"400 (mail) " + MESSAGES[26],
        b"400 (deny) " + MESSAGES[33],
    ])
    for compiled in (True, False):
        summary = scan_chunks([("current", [text])], compiled=compiled)
        assert summary.domain("example.com").signed == 2
        assert summary.domain("example.com").skipped == 1
        assert dict(summary.spamassassin.counts) == {"tolerated": 1}
        assert dict(summary.clamav.counts) == {"fail": 1}
        assert sum(summary.badmailfrom.counts.values()) == 1


def test_compiled_loop_rejects_wrong_argument_types():
    compiled = require_compiled_loop()
    with pytest.raises(TypeError):
        compiled.feed("text", 0, 4, 0, {}, {}, {}, {}, {}, "f", print, print)
    with pytest.raises(TypeError, match="pending must be a dict"):
        compiled.feed(b"x\n", 0, 2, 0, [], {}, {}, {}, {}, "f", print, print)


def test_an_error_in_a_handler_stops_the_compiled_loop_and_propagates():
    compiled = require_compiled_loop()

    def boom(*_args):
        raise ValueError("handler failed")

    with pytest.raises(ValueError, match="handler failed"):
        compiled.feed(b"1 (x) dkim: error, y\n", 0, 21, 0, {}, {}, {}, {}, {}, "f", boom, boom)
