"""Bounces & junkmail state panel: DoubleBounceTo and the Maildir ownership audit summary."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from smewizard.steps.bounce import PathState
from smewizard.ui.snapshot import StepSnapshot

SHOWN = 20


class StatePanel(Vertical):
    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__(classes="bounce-panel")
        self.snapshot = snapshot
        self.facts = snapshot.facts

    def compose(self) -> ComposeResult:
        facts = self.facts
        target = facts.double_bounce_to or "(unset: postmaster)"
        cls = "-pass" if (facts.double_bounce_to or "").lower() == "devnull" else "-warn"
        yield Static(Content(f"qmail DoubleBounceTo: {target}"), classes=f"state-row {cls}")
        folders = sum(len(u.checks) for u in facts.users)
        yield Static(Content(f"Maildir audit: {len(facts.users)} user(s), {folders} folder(s) checked"),
                     classes="state-label")
        problems = [c for u in facts.users for c in u.checks if c.state is not PathState.OK]
        for check in problems[:SHOWN]:
            cls = "-unknown" if check.state is PathState.UNREADABLE else (
                "-fail" if check.state is PathState.WRONG_OWNER else "-warn")
            owner = f" (owner {check.owner})" if check.owner else ""
            yield Static(Content(f"  {check.state}: {check.path}{owner}"), classes=f"state-row {cls}")
        if len(problems) > SHOWN:
            yield Static(Content(f"  … and {len(problems) - SHOWN} more (see Findings)"), classes="state-row")
        if not problems and facts.users:
            yield Static("  every folder is owned by its user", classes="state-row -pass")
