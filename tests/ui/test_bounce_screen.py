"""Pilot + snapshot tests of the Bounces & junkmail step view on the simulated demo server."""

from __future__ import annotations

import os

import pytest

from smewizard.ui.screens.confirm import ConfirmApply
from tests.ui.test_app import until
from tests.ui.test_helo_screen import demo_app, open_step, panel_app  # noqa: F401 - fixture

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the demo's root-owned junkmail tmp needs root")


@needs_root
async def test_demo_lists_wrong_owner_and_applies_chown_after_confirmation(demo_app):  # noqa: F811
    app, sim = demo_app()
    async with app.run_test(size=(110, 60)) as pilot:
        await open_step(app, pilot, "bounce", "5")
        panel = app.query_one(".bounce-panel")
        text = " ".join(str(s.render()) for s in panel.query("Static"))
        assert "DoubleBounceTo: (unset: postmaster)" in text
        assert "wrong-owner: /home/e-smith/files/users/carol/Maildir/.junkmail/tmp (owner root)" in text
        commands = [c for a in app.assessments["bounce"].actions for c in a.shell()]
        assert "chown -h carol:carol -- /home/e-smith/files/users/carol/Maildir/.junkmail/tmp" in commands
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmApply), "the confirmation")
        assert os.stat(sim.root / "home/e-smith/files/users/carol/Maildir/.junkmail/tmp").st_uid == 0
        await pilot.press("escape")  # cancelled: nothing changes
        await pilot.pause()
        assert os.stat(sim.root / "home/e-smith/files/users/carol/Maildir/.junkmail/tmp").st_uid == 0


@needs_root
def test_bounce_panel_snapshot(snap_compare, sim_dns):
    sim, dns = sim_dns("demo")
    assert snap_compare(panel_app(sim, dns, "bounce"), terminal_size=(100, 20))
