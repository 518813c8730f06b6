"""Pilot + snapshot tests of the SpamAssassin step view on the simulated demo server."""

from __future__ import annotations

from smewizard.sim.salearn import install_sa_learn
from tests.ui.test_helo_screen import demo_app, open_step, panel_app  # noqa: F401 - fixture


async def test_demo_shows_thresholds_bayes_and_blacklist(demo_app):  # noqa: F811
    app, sim = demo_app()
    install_sa_learn(sim.root, nspam=120, nham=450, ntokens=30_000)
    async with app.run_test(size=(110, 60)) as pilot:
        await open_step(app, pilot, "spamassassin", "6")
        panel = app.query_one(".sa-panel")
        text = " ".join(str(s.render()) for s in panel.query("Static"))
        assert "Bayes: inactive — nspam 120, nham 450, ntokens 30,000" in text
        assert "Envelope blacklist (generated /var/qmail/control/badmailfrom)" in text
        assert "smewizard spamassassin --tag 3.3 --reject 12" in text
        assert app.assessments["spamassassin"].actions == ()


def test_spamassassin_panel_snapshot(snap_compare, sim_dns):
    sim, dns = sim_dns("demo")
    install_sa_learn(sim.root, nspam=2400, nham=5200, ntokens=180_000)
    assert snap_compare(panel_app(sim, dns, "spamassassin"), terminal_size=(100, 20))
