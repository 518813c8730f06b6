"""HELO & PTR state panel: public IPs, the PTR → A/AAAA → IP → HELO diagram, and the request
text for the hosting provider (copyable)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Static

from smewizard.model import Record
from smewizard.ui.messages import CopyRequested
from smewizard.ui.snapshot import StepSnapshot


class StatePanel(Vertical):
    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__(classes="helo-panel")
        self.snapshot = snapshot
        self.facts = snapshot.facts

    def compose(self) -> ComposeResult:
        facts = self.facts
        yield Static(Content(f"Server FQDN: {facts.fqdn or '(unknown)'}"), classes="state-label")
        yield Static(Content(f"qpsmtpd HeloHost: {facts.qpsmtpd_helo or '(unset)'}"
                             + (f"   smtpd HeloHost: {facts.smtpd_helo}" if facts.smtpd_helo else "")),
                     classes="state-row")
        announced = facts.announced
        if announced is not None:
            said = announced.name or f"unknown ({announced.error})"
            yield Static(Content(f"qmail announces in HELO: {said}   ({announced.source})"), classes="state-row")
        for ip in facts.ips:
            yield Static(Content(f"{ip.address}  ({ip.source})"), classes="state-row")
        yield Static(Content(facts.diagram()), classes="helo-diagram")
        for index, (_, text) in enumerate(facts.provider_request_items()):
            yield Static("Request for your hosting provider (PTR is set by them, not in your DNS):",
                         classes="state-label")
            yield Static(Content(text), classes="helo-request")
            yield Button("Copy request", id=f"copy-ptr-request-{index}", classes="helo-copy")

    @on(Button.Pressed, ".helo-copy")
    def _copy(self, event: Button.Pressed) -> None:
        event.stop()
        index = int((event.button.id or "0").rsplit("-", 1)[-1])
        ip, text = self.facts.provider_request_items()[index]
        self.post_message(CopyRequested(Record(f"PTR request for {ip}", "PTR", text), "value"))
