"""Pilot + snapshot tests of the DMARC state panel on the simulated server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from smewizard.dmarc.sample import SampleRow, gzipped, report_mail, report_xml
from smewizard.dns import Dns
from smewizard.steps.base import Context
from smewizard.ui.app import SmeWizardApp
from tests.fixtures_ui import StepViewHarness, probe_snapshot
from tests.ui.test_app import until

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def deliver(sim, days=20):
    new = sim.root / "home/e-smith/Maildir/new"
    new.mkdir(parents=True, exist_ok=True)
    for day in range(days):
        begin = int((NOW - timedelta(days=days - day)).timestamp())
        rows = [SampleRow("203.0.113.10", 40), SampleRow("198.51.100.25", 5 + day % 4, dkim="fail", spf="fail")]
        xml = report_xml("example.com", rows, report_id=f"r{day}", begin=begin)
        (new / f"{day}.sim").write_bytes(report_mail(gzipped(xml), f"r{day}.xml.gz", domain="example.com"))


@pytest.fixture
def dmarc_app(sim_dns, auth_server, tmp_path):
    sim, _ = sim_dns("good")
    dns = Dns([auth_server.address], timeout=5.0)
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com"])
    deliver(sim)
    app = SmeWizardApp(Context(host=sim.host(), dns=dns, now=NOW), server_label="simulated SME root · test",
                       publisher=auth_server.publish, records_dir=tmp_path / "records", env={})
    return app


async def open_dmarc(app, pilot):
    await until(pilot, lambda: not app.probing and "dmarc" in app.assessments, "the audit finished")
    await pilot.press("3")
    await until(pilot, lambda: app.query(".dmarc-panel"), "the DMARC panel")


async def test_panel_shows_record_ramp_and_sources(dmarc_app):
    app = dmarc_app
    async with app.run_test(size=(120, 70)) as pilot:
        await open_dmarc(app, pilot)
        panel = app.query_one(".dmarc-panel")
        text = " ".join(str(s.render()) for s in panel.query("Static"))
        assert "Record: v=DMARC1; p=none" in text
        assert "Stage: p=none (monitoring), 20 days" in text
        assert "not yet ready for p=quarantine" in text and "would be hurt" in text and "198.51.100.25" in text
        assert "Daily DMARC pass rate" in text
        table = panel.query_one(".dmarc-sources")
        assert table.row_count == 2
        assert table.get_row_at(0)[0] == "203.0.113.10"


def test_dmarc_screen_snapshot(snap_compare, sim_dns, auth_server):
    """One-step harness (tests/fixtures_ui.py): the snapshot does not depend on other steps."""
    sim, _ = sim_dns("good")
    dns = Dns([auth_server.address], timeout=5.0)  # no spurious timeout on a loaded machine
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com"])
    deliver(sim)
    app = StepViewHarness(probe_snapshot(Context(host=sim.host(), dns=dns, now=NOW), "dmarc", "example.com"))
    assert snap_compare(app, terminal_size=(120, 70))


async def panel_rows(sim_dns, auth_server, txt: dict[str, list[str]]) -> list[str]:
    """The demo's DMARC panel rows (all domains) with extra TXT records published."""
    sim, _ = sim_dns("demo")
    dns = Dns([auth_server.address], timeout=5.0)
    for name, values in txt.items():
        auth_server.set_txt(name, values)
    snapshot = await asyncio.get_running_loop().run_in_executor(
        None, lambda: probe_snapshot(Context(host=sim.host(), dns=dns, now=NOW), "dmarc", None))
    app = StepViewHarness(snapshot)
    async with app.run_test(size=(100, 60)) as pilot:
        await until(pilot, lambda: app.query(".dmarc-panel"), "the DMARC panel")
        return [str(s.render()) for s in app.query_one(".dmarc-panel").query("Static")]


async def test_panel_says_why_there_are_no_reports(sim_dns, auth_server):
    text = "\n".join(await panel_rows(sim_dns, auth_server, {}))
    assert ("No aggregate reports for example.com yet: there is no dmarc-feedback pseudonym "
            "(or other mailbox on this server) to receive them.") in text
    assert " in no " not in text


async def test_panel_shortens_a_huge_record(sim_dns, auth_server):
    rows = await panel_rows(sim_dns, auth_server, {"_dmarc.example.org": ["v=DMARC1; p=none; " + "y" * 5000]})
    junk = next(r for r in rows if r.startswith("Record: v=DMARC1; p=none; yyy"))
    assert junk.endswith("… (5,018 characters)") and len(junk) < 400


async def test_panel_says_where_an_inherited_policy_comes_from(sim_dns, auth_server):
    net = {"_dmarc.example.net": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.net"]}
    text = "\n".join(await panel_rows(sim_dns, auth_server, net))
    assert ("No record at _dmarc.shop.example.net: the policy comes from _dmarc.example.net, "
            "its organisational domain (RFC 9989 tree walk") in text
    assert "Record (of example.net): v=DMARC1; p=quarantine" in text
    text = "\n".join(await panel_rows(sim_dns, auth_server, {}))
    assert "Record: none published (asked _dmarc.shop.example.net, then _dmarc.example.net)" in text
