"""Summary per domain/source and the ramp verdict: time at stage AND evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smewizard.dmarc import ramp
from smewizard.dmarc.reports import reports_from_bytes
from smewizard.dmarc.sample import SampleRow, report_xml
from smewizard.dmarc.summary import sparkline, summarize
from smewizard.host import LocalHost
from smewizard.validate import InvalidValue

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def report(domain="example.com", rows=(), day=0, p="none", rid=None, testing=None):
    begin = int((NOW - timedelta(days=30 - day)).timestamp())
    xml = report_xml(domain, list(rows), report_id=rid or f"{domain}-{day}", begin=begin, p=p, testing=testing)
    return next(iter(reports_from_bytes(xml, "t")))


GOOD = SampleRow("203.0.113.10", 100)
RELAY_BAD = SampleRow("198.51.100.25", 10, dkim="fail", spf="pass")
LIST_FWD = SampleRow("192.0.2.77", 10, dkim="fail", spf="fail")  # a forwarder, DKIM broken


def test_summary_counts_per_source_and_per_day():
    s = summarize([report(rows=[GOOD, LIST_FWD], day=0), report(rows=[GOOD], day=1)]).for_domain("example.com")
    assert s.messages == 210 and s.passed == 200 and s.reports == 2
    top = s.sources[0]
    assert (top.ip, top.messages, top.pass_rate, top.dkim_rate) == ("203.0.113.10", 200, 1.0, 1.0)
    assert [d.messages for d in s.daily] == [110, 100]
    assert sparkline(s.daily)[-1] == "█"
    assert s.policies[0].stage == "none"


def test_not_ready_before_min_days_even_with_perfect_evidence():
    s = summarize([report(rows=[GOOD], day=25)]).for_domain("example.com")
    v = ramp.judge("example.com", "none", NOW, ramp.RampSettings(), None, s)
    assert not v.ready and v.days == 5 and "wait 9 more days" in v.reasons[0]
    assert v.next_stage == "quarantine" and v.previous_stage is None


def test_ready_when_time_passed_and_legitimate_sources_pass():
    s = summarize([report(rows=[GOOD], day=d) for d in range(0, 20)]).for_domain("example.com")
    v = ramp.judge("example.com", "none", NOW, ramp.RampSettings(), None, s)
    assert v.ready and v.days == 30 and v.since_source == "reports" and v.legit_rate == 1.0


def test_legitimate_source_below_threshold_blocks_and_is_listed():
    rows = [GOOD, SampleRow("198.51.100.25", 50, dkim="fail", spf="fail"), SampleRow("198.51.100.25", 50)]
    s = summarize([report(rows=rows, day=d) for d in range(0, 20)]).for_domain("example.com")
    v = ramp.judge("example.com", "none", NOW, ramp.RampSettings(), None, s, own_ips=["198.51.100.25"])
    assert not v.ready
    assert [h.ip for h in v.hurt] == ["198.51.100.25"]
    assert any("would be hurt" in r and "198.51.100.25" in r for r in v.reasons)


def test_unrecognised_failing_sources_do_not_block_but_are_listed():
    s = summarize([report(rows=[GOOD, LIST_FWD], day=d) for d in range(0, 20)]).for_domain("example.com")
    v = ramp.judge("example.com", "none", NOW, ramp.RampSettings(), None, s)
    assert v.ready and [u.ip for u in v.unrecognised] == ["192.0.2.77"]


def test_too_little_evidence_is_not_ready():
    s = summarize([report(rows=[SampleRow("203.0.113.10", 3)], day=0)]).for_domain("example.com")
    v = ramp.judge("example.com", "none", NOW, ramp.RampSettings(), None, s)
    assert not v.ready and "at least 20" in " ".join(v.reasons)


def test_test_stages_are_optional_and_reject_is_last():
    basic, tested = ramp.RampSettings(), ramp.RampSettings(test_stages=True)
    assert ramp.next_stage("none", basic) == "quarantine"
    assert ramp.next_stage("none", tested) == "quarantine-test"
    assert ramp.next_stage("reject-test", basic) == "reject"
    assert ramp.previous_stage("reject", tested) == "reject-test"
    assert ramp.next_stage("reject", basic) is None
    v = ramp.judge("example.com", "reject", NOW, basic, None, None)
    assert v.next_stage is None and v.previous_stage == "quarantine"


def test_settings_are_validated():
    with pytest.raises(InvalidValue):
        ramp.RampSettings(min_days=0)
    with pytest.raises(InvalidValue):
        ramp.RampSettings(threshold=1.5)


def test_recorded_observation_survives_and_history_keeps_the_previous_stage(tmp_path):
    (tmp_path / "home/e-smith/db").mkdir(parents=True)
    host = LocalHost(tmp_path)
    t1, t2 = NOW - timedelta(days=40), NOW - timedelta(days=3)
    ramp.RecordStageObserved("example.com", "none", t1).execute(host)
    ramp.RecordStageObserved("example.com", "none", t2).execute(host)  # same stage: unchanged
    state = ramp.read_state(host)
    assert state.get("example.com").current.since == t1
    ramp.RecordStageObserved("example.com", "quarantine", t2).execute(host)
    state = ramp.read_state(host)
    rec = state.get("example.com")
    assert rec.current.stage == "quarantine" and rec.current.since == t2
    assert rec.history[-1].stage == "none" and rec.history[-1].until == t2
    assert (tmp_path / "home/e-smith/db/smewizard-dmarc.json").stat().st_mode & 0o777 == 0o640
    since, source = ramp.stage_since("quarantine", rec, None)
    assert since == t2 and source == "recorded"


def test_a_damaged_state_file_is_reported_not_raised():
    state = ramp.parse_state("{not json")
    assert state.domains == {} and "damaged" in state.problem


def test_stage_since_uses_reports_after_the_last_other_stage():
    s = summarize([report(day=0, p="none", rid="a"), report(day=10, p="quarantine", rid="b"),
                   report(day=12, p="none", rid="c"), report(day=20, p="quarantine", rid="d")]).for_domain("example.com")
    since, source = ramp.stage_since("quarantine", None, s)
    assert source == "reports" and since.date() == (NOW - timedelta(days=18)).date()
