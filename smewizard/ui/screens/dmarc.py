"""DMARC state panel: the record, the ramp (stage, days, readiness and why), the daily pass
rate and the sources table. Built from DmarcFacts only (verdicts are computed by the probe)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from smewizard.dmarc.ramp import STAGE_LABEL
from smewizard.dmarc.summary import sparkline
from smewizard.mail.dmarc import shorten
from smewizard.steps.dmarc import policy_source, reports_note, walk_summary
from smewizard.ui.snapshot import StepSnapshot

RECORD_SHOWN_CHARS = 300  # a junk 5,000-character TXT would fill the panel; findings say why
T_FLAG_NOTE = ("DMARC t=y = policy testing (receivers apply one step less). "
               "Not the DKIM key flag t=y, which makes signatures count as absent.")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


class StatePanel(Vertical):
    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__(classes="dmarc-panel")
        self.snapshot = snapshot
        self.facts = snapshot.facts

    def compose(self) -> ComposeResult:
        facts = self.facts
        for name in self.snapshot.domains():
            d = facts.domain(name)
            if d is None:
                continue
            yield Static(Content(name), classes="state-label")
            yield from self._record(d)
            verdict = facts.verdicts.get(name)
            if verdict is not None:
                yield from self._ramp(verdict)
            summary = facts.summary.for_domain(name)
            if summary is not None:
                yield from self._reports(name, summary)
            else:
                yield Static(Content(reports_note(facts, name)), classes="state-row -info")
        if facts.ingest.problems:
            yield Static(Content(f"{len(facts.ingest.problems)} report file(s) could not be read "
                                 "(see finding DMARC030)"), classes="state-row -warn")

    def _record(self, d) -> ComposeResult:
        disc = d.discovery
        if disc.failed:
            failed = next((s.target for s in disc.steps if s.outcome == "failed"), d.domain)
            yield Static(Content(f"Record: unknown (the DNS lookup of _dmarc.{failed} failed)"),
                         classes="state-row -unknown")
        elif disc.record_text is None:
            yield Static(Content(f"Record: none published (asked {walk_summary(disc)})"), classes="state-row -fail")
        else:
            if disc.inherited:
                yield Static(Content(f"No record at _dmarc.{d.domain}: the policy comes from "
                                     f"{policy_source(disc)} (RFC 9989 tree walk: receivers ask each "
                                     "parent name in turn and apply the first record found)"),
                             classes="state-row -info dmarc-inherited")
            where = f" (of {disc.found_at})" if disc.inherited else ""
            shown = shorten(disc.record_text, RECORD_SHOWN_CHARS)
            yield Static(Content(f"Record{where}: {shown}"), classes="state-row dmarc-record")
            rec = d.parsed.record if d.parsed else None
            if rec is not None and rec.testing:
                yield Static(Content(T_FLAG_NOTE), classes="state-row -info")

    def _ramp(self, v) -> ComposeResult:
        days = f"{v.days} days" if v.days is not None else "days unknown"
        since = f" since {v.since:%Y-%m-%d} ({'recorded' if v.since_source == 'recorded' else 'from reports'})" if v.since else ""
        yield Static(Content(f"Stage: {STAGE_LABEL[v.stage]}, {days}{since}"), classes="state-row")
        if v.next_stage is None:
            verdict, cls = "final stage reached", "-pass"
        elif v.ready:
            verdict, cls = f"ready for {STAGE_LABEL[v.next_stage]}", "-pass"
        else:
            verdict, cls = f"not yet ready for {STAGE_LABEL[v.next_stage]}", "-warn"
        yield Static(Content(f"Readiness: {verdict} (legitimate mail passing: {_pct(v.legit_rate)}, "
                             f"threshold {v.settings.threshold:.0%}, minimum {v.settings.min_days} days)"),
                     classes=f"state-row {cls}")
        for reason in v.reasons:
            yield Static(Content(f"  • {reason}"), classes="state-row dmarc-reason")
        if v.previous_stage:
            yield Static(Content(f"Step back is always possible: {STAGE_LABEL[v.previous_stage]} "
                                 "(record listed below)"), classes="state-row")

    def _reports(self, name, s) -> ComposeResult:
        yield Static(Content(f"Reports: {s.reports} from {', '.join(s.reporters) or '?'}; {s.messages} messages, "
                             f"{s.pass_rate:.1%} pass DMARC ({s.first:%Y-%m-%d} – {s.last:%Y-%m-%d})"),
                     classes="state-row")
        latest = s.daily[-1] if s.daily else None
        tail = f"  last day {latest.rate:.0%} of {latest.messages}" if latest else ""
        yield Static(Content(f"Daily DMARC pass rate (▁ 0 % … █ 100 %): {sparkline(s.daily)}{tail}"),
                     classes="state-row dmarc-spark")
        table: DataTable = DataTable(classes="dmarc-sources", cursor_type="row", zebra_stripes=True)
        table.add_columns("Source IP", "Messages", "DMARC pass", "DKIM aligned", "SPF aligned", "In SPF", "Reverse name")
        for src in s.sources[:40]:
            in_spf = "?" if src.in_spf is None else ("yes" if src.in_spf else "no")
            table.add_row(src.ip, str(src.messages), _pct(src.pass_rate), _pct(src.dkim_rate),
                          _pct(src.spf_rate), in_spf, src.reverse_name or "-")
        yield table
