"""SpamAssassin state panel: thresholds, Bayes counts, the envelope blacklist and how to edit
them (the `smewizard spamassassin` command validates every value before changing anything)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from smewizard.mail.spamassassin import BayesState
from smewizard.steps.spamassassin import effective_thresholds
from smewizard.ui.snapshot import StepSnapshot

BAYES_CLASS = {
    BayesState.WELL_TRAINED: "-pass",
    BayesState.LEARNING: "-info",
    BayesState.INACTIVE: "-warn",
    BayesState.NO_DATA: "-warn",
    BayesState.UNKNOWN: "-unknown",
}


class StatePanel(Vertical):
    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__(classes="sa-panel")
        self.snapshot = snapshot
        self.facts = snapshot.facts

    def compose(self) -> ComposeResult:
        facts = self.facts
        props = facts.props
        levels, problem = effective_thresholds(props)
        yield Static(Content(
            f"Sensitivity {props.get('Sensitivity') or 'medium'} · TagLevel {props.get('TagLevel') or '-'} · "
            f"RejectLevel {props.get('RejectLevel') or '-'}"), classes="state-row")
        if problem:
            yield Static(Content(f"  {problem}"), classes="state-row -fail")
        elif levels is not None:
            reject = f"{levels.reject:g}" if levels.rejects else "never"
            yield Static(Content(f"  in effect: tag at {levels.tag:g}, reject {reject}"), classes="state-row")
        bayes = facts.bayes
        if bayes.magic is not None:
            m = bayes.magic
            text = f"Bayes: {bayes.state} — nspam {m.nspam:,}, nham {m.nham:,}, ntokens {m.ntokens:,}"
        else:
            text = f"Bayes: {bayes.state} — {bayes.detail}"
        yield Static(Content(text), classes=f"state-row {BAYES_CLASS[bayes.state]}")
        where = "smeserver-wbl db" if facts.mechanism == "wbl" else "generated /var/qmail/control/badmailfrom"
        entries = ", ".join(facts.blacklist) or "empty"
        yield Static(Content(f"Envelope blacklist ({where}): {entries}"), classes="state-row")
        yield Static(Content(
            "Edit (validated, nothing changes on a bad value):\n"
            "  smewizard spamassassin --tag 3.3 --reject 12 [--yes]\n"
            "  smewizard spamassassin --blacklist-add @bad.example [--yes]"), classes="sa-edit")
