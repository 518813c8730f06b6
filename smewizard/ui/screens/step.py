"""The generic step view: state panel, findings, proposed changes, records, re-verify.

Extension point (see docs/ui.md): a step engineer adds `smewizard/ui/screens/<stepkey>.py`
exposing `StatePanel`, a Widget class built as `StatePanel(snapshot)` from a `StepSnapshot`;
it shows the step's current state from `snapshot.facts` (narrowed to `snapshot.domain`).
A module may instead (or also) expose `View`, a `StepView` subclass, to change the whole view.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Static

from smewizard.ui.messages import ApplyRequested, ReverifyRequested, SaveRequested
from smewizard.ui.snapshot import StepSnapshot
from smewizard.ui.status import STATUS_ICON, status_class
from smewizard.ui.widgets.actions import ActionsList
from smewizard.ui.widgets.findings import FindingsList
from smewizard.ui.widgets.records import RecordsList


def step_ui_module(key: str) -> ModuleType | None:
    """`smewizard.ui.screens.<key>` if a step engineer has built it, else None."""
    name = f"smewizard.ui.screens.{key}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def view_class(key: str) -> type[StepView]:
    module = step_ui_module(key)
    custom = getattr(module, "View", None) if module else None
    return custom if custom is not None else StepView


def state_panel_class(key: str) -> type[Widget] | None:
    module = step_ui_module(key)
    return getattr(module, "StatePanel", None) if module else None


class Section(Vertical):
    """A titled block of the step view."""

    def __init__(self, title: str, *children: Widget, **kwargs) -> None:
        super().__init__(*children, **kwargs)
        self.border_title = title
        self.add_class("section")


class StepView(Vertical):
    """Renders one StepSnapshot. Rebuilt by the app whenever the snapshot changes."""

    def __init__(self, snapshot: StepSnapshot, **kwargs) -> None:
        super().__init__(**kwargs)
        self.snapshot = snapshot
        self.add_class("step-view")

    # ------------------------------------------------------------ composition
    def compose(self) -> ComposeResult:
        snap = self.snapshot
        yield self.compose_title()
        if not snap.available and snap.error is not None:
            yield Static(Content(snap.error), classes="notice -unknown")
            return
        if not snap.available:
            yield Static(
                Content(
                    f"{snap.info.title} is not yet available in this version of smewizard. "
                    f"It will cover guide {', '.join(snap.info.parts)}."
                ),
                classes="notice",
            )
            return
        if snap.error is not None:
            yield Static(Content(f"The probe failed: {snap.error}"), classes="notice -unknown")
        if snap.assessment is None:
            if snap.error is None:
                yield Static("Probing the server and DNS…", classes="notice")
            yield from self.compose_buttons()
            return
        yield from self.compose_state()
        yield Section("Findings", FindingsList(snap.assessment.findings), id="findings")
        yield Section("Server changes", ActionsList(snap.assessment.actions), id="actions")
        yield Section(
            "DNS records to publish",
            RecordsList(snap.assessment.records, snap.can_publish),
            id="records",
        )
        yield from self.compose_buttons()

    def compose_title(self) -> Widget:
        snap = self.snapshot
        status = snap.status
        icon = STATUS_ICON[status] if status is not None else " "
        where = f" · {snap.domain}" if snap.domain else " · all domains"
        probing = "  (probing…)" if snap.probing else ""
        text = f"{icon} {snap.info.title}{where} · guide {', '.join(snap.info.parts)}{probing}"
        return Static(Content(text), classes=f"step-title {status_class(status)}")

    def compose_state(self) -> ComposeResult:
        panel_class = state_panel_class(self.snapshot.key)
        if panel_class is not None and self.snapshot.facts is not None:
            yield Section("Current state", panel_class(self.snapshot), id="state")

    def compose_buttons(self) -> ComposeResult:
        snap = self.snapshot
        with Horizontal(classes="buttons", id="step-buttons"):
            yield Button("Re-verify (r)", id="reverify", variant="primary", compact=True,
                         disabled=snap.probing)
            if snap.assessment is not None and snap.assessment.records:
                yield Button("Save all records (s)", id="save-all", compact=True)

    # ------------------------------------------------------------ requests
    @on(Button.Pressed, "#reverify")
    def _reverify(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(ReverifyRequested(self.snapshot.key))

    @on(Button.Pressed, "#apply")
    def _apply(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(ApplyRequested(self.snapshot.key))

    @on(Button.Pressed, "#save-all")
    def _save_all(self, event: Button.Pressed) -> None:
        event.stop()
        assert self.snapshot.assessment is not None
        stem = f"{self.snapshot.key}-{self.snapshot.domain or 'all-domains'}"
        self.post_message(SaveRequested(self.snapshot.assessment.records, stem))
