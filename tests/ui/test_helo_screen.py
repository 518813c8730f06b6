"""Pilot + snapshot tests of the HELO & PTR step view on the simulated demo server."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from textual.app import App

import smewizard.ui
from smewizard.engine import run_step
from smewizard.sim.salearn import install_sa_learn
from smewizard.steps.base import Context
from smewizard.steps.registry import available_steps, info
from smewizard.steps.server import probe_server
from smewizard.ui.app import SmeWizardApp
from smewizard.ui.snapshot import StepSnapshot
from tests.ui.test_app import until

UI = Path(smewizard.ui.__file__).parent


@pytest.fixture
def demo_app(sim_dns, auth_server, tmp_path):
    def make(scenario: str = "demo") -> tuple[SmeWizardApp, object]:
        sim, dns = sim_dns(scenario)
        install_sa_learn(sim.root)  # the simulated sa-learn, never this machine's
        app = SmeWizardApp(Context(host=sim.host(), dns=dns), server_label="simulated SME root · test",
                           publisher=auth_server.publish, records_dir=tmp_path / "records", env={})
        return app, sim

    return make


async def open_step(app: SmeWizardApp, pilot, key: str, number: str) -> None:
    await until(pilot, lambda: not app.probing and key in app.assessments, "the audit finished")
    await pilot.press(number)
    await until(pilot, lambda: app.query(".helo-panel, .bounce-panel, .sa-panel"), "the state panel")


async def test_demo_shows_diagram_and_provider_request(demo_app):
    app, sim = demo_app()
    async with app.run_test(size=(110, 60)) as pilot:
        await open_step(app, pilot, "helo", "4")
        panel = app.query_one(".helo-panel")
        text = " ".join(str(s.render()) for s in panel.query("Static"))
        assert f"IP {sim.public_ip}" in text
        assert "HeloHost unset" in text
        # what receivers really see, from the file SME generates
        assert "qmail announces in HELO: example.com   (/var/qmail/control/helohost)" in text
        assert "our mail server will announce itself as mail.example.com" in " ".join(text.split())
        assert "Please set the reverse DNS (PTR record)" in text
        button = panel.query_one(".helo-copy")
        await pilot.click(f"#{button.id}")
        await pilot.pause()
        assert app.assessments["helo"].actions  # HeloHost unset in the demo: SetProp proposed


def panel_app(sim, dns, key: str) -> App:
    """Only `key`'s state panel, built from a real probe of the simulated server: the snapshot
    does not change when other steps (sidebar statuses) do."""
    ctx = Context(host=sim.host(), dns=dns)

    async def probe():
        server = await probe_server(ctx)
        step = next(s for s in available_steps() if s.key == key)
        facts, assessment = await run_step(ctx, step, server)
        return StepSnapshot(info(key), True, facts=facts, assessment=assessment, server=server)

    snapshot = asyncio.run(probe())
    panel_class = importlib.import_module(f"smewizard.ui.screens.{key}").StatePanel

    class PanelApp(App):
        CSS_PATH = [UI / "app.tcss", UI / "screens" / f"{key}.tcss"]

        def compose(self):
            yield panel_class(snapshot)

    return PanelApp()


def test_helo_panel_snapshot(snap_compare, sim_dns):
    sim, dns = sim_dns("demo")
    assert snap_compare(panel_app(sim, dns, "helo"), terminal_size=(100, 45))


async def test_diagram_fits_an_80_column_terminal(demo_app):
    """At 80x24 the chain box was wider than the view: its right side and '(= FQDN …)' were cut."""
    app, _ = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_step(app, pilot, "helo", "4")
        panel = app.query_one(".helo-panel")
        diagram = panel.query_one(".helo-diagram")
        await pilot.pause()
        assert diagram.region.right <= panel.region.right
        assert "(= FQDN" in str(diagram.render())
