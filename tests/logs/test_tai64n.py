"""TAI64N labels: decode as daemontools' tai64nlocal does (2**62 + 10 removed)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smewizard.logs.tai64n import (
    LAST_UNIX_SECOND,
    BadLabel,
    Tai64n,
    decode,
    encode,
    split_line,
    to_local_lines,
)


def test_unix_epoch_is_2_pow_62_plus_the_1970_tai_offset():
    assert decode("@400000000000000a00000000") == Tai64n(0, 0)
    assert decode("@400000000000000a00000000").utc == datetime(1970, 1, 1, tzinfo=UTC)


def test_a_label_multilog_wrote_in_2026():
    # 2026-11-25 01:27:28 UTC = 1795570048; +10 s; 0.5 s = 0x1dcd6500 ns
    label = f"@{2**62 + 10 + 1795570048:016x}1dcd6500"
    stamp = decode(label)
    assert stamp.utc == datetime(2026, 11, 25, 1, 27, 28, 500000, tzinfo=UTC)
    assert stamp.local_text(UTC) == "2026-11-25 01:27:28.500000000"


@pytest.mark.parametrize(
    "label",
    ["@4000000069255f2a1dcd650", "@4000000069255F2A1DCD6500", "4000000069255f2a1dcd6500x",
     "@3fffffffffffffff00000000", "@400000000000000a3b9aca00", "@4000000069255f2a1dcd6500 "],
)
def test_malformed_labels_are_refused(label):
    with pytest.raises(BadLabel):
        decode(label)


@given(st.integers(min_value=0, max_value=LAST_UNIX_SECOND), st.integers(min_value=0, max_value=999_999_999))
def test_label_round_trip(secs, nanos):
    stamp = Tai64n(secs, nanos)
    assert decode(stamp.label()) == stamp


def test_encode_carries_rounded_nanoseconds_into_the_second():
    assert decode(encode(99.9999999999)) == Tai64n(100, 0)


def test_split_line_keeps_unlabelled_lines_whole():
    assert split_line(b"no label here") == (None, b"no label here")
    stamp, text = split_line(b"@400000000000000a00000001 12 (data_post) dkim: pass")
    assert stamp == Tai64n(0, 1) and text == b"12 (data_post) dkim: pass"


def test_to_local_lines_converts_only_labels():
    data = b"@400000000000000a00000000 hello\nplain\n"
    assert to_local_lines(data, UTC) == b"1970-01-01 00:00:00.000000000 hello\nplain\n"


def test_a_label_past_year_9999_is_a_bad_label_not_a_crash():
    # hex-valid, but 2**62 + ~1.2e16 seconds: no calendar date can show it
    with pytest.raises(BadLabel, match="out of range"):
        decode("@400012345678901234567890")
    assert decode(encode(LAST_UNIX_SECOND)).utc.year == 9999
