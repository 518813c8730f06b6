"""The step list: a spinner while a step is probed, then the step's status icon and colour."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Label

from smewizard.model import Status
from smewizard.steps.registry import STEP_INFO
from smewizard.ui.app import stylesheets
from smewizard.ui.status import SPINNER_FRAMES, STATUS_ICON
from smewizard.ui.widgets.sidebar import StepItem, StepSidebar


class SidebarHarness(App[None]):
    CSS_PATH = stylesheets()

    def compose(self) -> ComposeResult:
        yield StepSidebar([(info, True) for info in STEP_INFO], id="steps")


def icon(item: StepItem) -> str:
    return str(item.query_one(".step-label", Label).render()).split(" ", 1)[0]


async def test_spinner_turns_while_probing_then_shows_the_status():
    app = SidebarHarness()
    async with app.run_test(size=(40, 20)) as pilot:
        item = app.query_one(StepSidebar).item("spf")
        item.probing = True
        await pilot.pause()
        assert item.has_class("-probing")
        first = icon(item)
        assert first in SPINNER_FRAMES
        item._spin()
        await pilot.pause()
        assert icon(item) != first and icon(item) in SPINNER_FRAMES
        assert item.has_class("-probing")
        item.probing = False
        item.status = Status.PASS
        await pilot.pause()
        assert icon(item) == STATUS_ICON[Status.PASS]
        assert item.has_class("-pass") and not item.has_class("-probing")
