"""The list of steps with a live status icon each (spinner while probing)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Label, ListItem, ListView

from smewizard.model import Status
from smewizard.steps.registry import StepInfo
from smewizard.ui.status import (
    ALL_STATUS_CLASSES,
    NOT_AVAILABLE_ICON,
    SPINNER_FRAMES,
    STATUS_ICON,
    status_class,
)


class StepItem(ListItem):
    status: reactive[Status | None] = reactive(None)
    probing: reactive[bool] = reactive(False)

    def __init__(self, info: StepInfo, number: int, available: bool) -> None:
        super().__init__(id=f"step-{info.key}", classes="step-item")
        self.info = info
        self.number = number
        self.available = available
        self._frame = 0
        self._spin_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._text(), classes="step-label")
        if not self.available:
            yield Label("not yet available", classes="na-note")

    def _icon(self) -> str:
        if not self.available:
            return NOT_AVAILABLE_ICON
        if self.probing:
            return SPINNER_FRAMES[self._frame % len(SPINNER_FRAMES)]
        return STATUS_ICON[self.status] if self.status is not None else " "

    def _text(self) -> Content:
        return Content(f"{self._icon()} {self.number} {self.info.title}")

    def _refresh(self) -> None:
        self.remove_class(*ALL_STATUS_CLASSES)
        if not self.available:
            self.add_class("-na")
        elif self.probing:
            self.add_class("-probing")
        else:
            self.add_class(status_class(self.status))
        if self.is_mounted:
            self.query_one(".step-label", Label).update(self._text())

    def on_mount(self) -> None:
        self._refresh()

    def watch_status(self) -> None:
        self._refresh()

    def watch_probing(self, probing: bool) -> None:
        if probing and self._spin_timer is None:
            self._spin_timer = self.set_interval(0.1, self._spin)
        elif not probing and self._spin_timer is not None:
            self._spin_timer.stop()
            self._spin_timer = None
        self._refresh()

    def _spin(self) -> None:
        # Only the icon changes (one cell wide, like every frame): no class change, no layout,
        # so seven spinners do not restyle and reflow the screen ten times a second each.
        self._frame += 1
        if self.is_mounted:
            self.query_one(".step-label", Label).update(self._text(), layout=False)


class StepSidebar(ListView):
    def __init__(self, steps: list[tuple[StepInfo, bool]], **kwargs) -> None:
        items = [StepItem(info, n, available) for n, (info, available) in enumerate(steps, 1)]
        super().__init__(*items, **kwargs)

    def item(self, key: str) -> StepItem:
        return self.query_one(f"#step-{key}", StepItem)
