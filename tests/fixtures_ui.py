"""UI fixtures: render ONE step's view from a real probe, for stable snapshot tests.

    def test_x(snap_compare, step_view_app):
        app = step_view_app("dkim", scenario="demo", domain="example.com")
        assert snap_compare(app, terminal_size=(100, 40))

The harness shows only that step's StepView (same stylesheets as the app), so the snapshot does
not change when other steps land or the sidebar changes. The probe runs over the loopback
auth_server against a simulated root, exactly as in the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from smewizard.engine import run_step
from smewizard.steps.base import Context
from smewizard.steps.registry import info, load_step
from smewizard.steps.server import probe_server
from smewizard.ui.app import stylesheets
from smewizard.ui.screens.step import view_class
from smewizard.ui.snapshot import StepSnapshot


class StepViewHarness(App[None]):
    """One step view alone, in the app's stylesheets."""

    CSS_PATH = stylesheets()

    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="main"):
            yield view_class(self.snapshot.key)(self.snapshot, id="step-view")


def probe_snapshot(ctx: Context, key: str, domain: str | None, can_publish: bool = True) -> StepSnapshot:
    """Probe and assess step `key` now (in a fresh event loop) and build its snapshot."""
    step = load_step(info(key))
    if step is None:
        pytest.skip(f"step {key} is not built")

    async def probe():
        server = await probe_server(ctx)
        facts, assessment = await run_step(ctx, step, server)
        return server, facts, assessment

    server, facts, assessment = asyncio.run(probe())
    return StepSnapshot(
        info=info(key),
        available=True,
        facts=facts,
        assessment=assessment.for_domain(domain) if domain else assessment,
        server=server,
        domain=domain,
        can_publish=can_publish,
    )


@pytest.fixture
def step_view_app(sim_dns) -> Callable[..., StepViewHarness]:
    """`step_view_app(key, scenario="demo", domain=None) -> App` showing only that step."""

    def make(key: str, scenario: str = "demo", domain: str | None = None) -> StepViewHarness:
        sim, dns = sim_dns(scenario)
        return StepViewHarness(probe_snapshot(Context(host=sim.host(), dns=dns), key, domain))

    return make
