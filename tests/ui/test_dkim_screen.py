"""Pilot + snapshot tests of the DKIM screen on the simulated server and loopback DNS:
generate with an edited selector, confirm, copy the record, publish it, re-verify; and that no
private-key byte ever reaches the screen or the clipboard."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input

from smewizard.engine import run_step
from smewizard.steps.base import Context
from smewizard.steps.registry import info, load_step
from smewizard.steps.server import probe_server
from smewizard.ui.app import SmeWizardApp, stylesheets
from smewizard.ui.screens.confirm import ConfirmApply
from smewizard.ui.screens.step import view_class
from smewizard.ui.snapshot import StepSnapshot
from tests.ui.test_app import until as _until

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def until(pilot, condition, what: str) -> None:
    """Wait for workers (probes, key generation, apply) with a generous bound: the machine is
    shared, and a wait is not a speed assertion."""
    await _until(pilot, condition, what, limit=1200)


@pytest.fixture
def dkim_app(sim_dns, auth_server, tmp_path):
    def make(scenario: str = "fresh") -> tuple[SmeWizardApp, object]:
        sim, dns = sim_dns(scenario)
        app = SmeWizardApp(Context(host=sim.host(), dns=dns, now=NOW),
                           server_label="simulated SME root · test",
                           publisher=auth_server.publish, records_dir=tmp_path / "records", env={})
        return app, sim

    return make


async def open_dkim(app, pilot) -> None:
    await until(pilot, lambda: not app.probing and "dkim" in app.assessments, "the audit finished")
    await pilot.press("2")
    await until(pilot, lambda: app.query(".dkim-panel"), "the DKIM panel")


def screen_text(app) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query("Static"))


def key_lines(sim) -> set[str]:
    lines: set[str] = set()
    for dirpath, _, files in os.walk(sim.root / "home/e-smith/dkim_keys"):
        for name in files:
            data = open(os.path.join(dirpath, name), "rb").read()
            if b"PRIVATE KEY" in data:
                lines |= {x for x in data.decode().splitlines() if x and not x.startswith("-----")}
    return lines


async def test_generate_confirm_copy_publish_reverify(dkim_app, auth_server):
    app, sim = dkim_app("fresh")
    host = sim.host()
    async with app.run_test(size=(120, 70)) as pilot:
        await open_dkim(app, pilot)
        assert "will NOT sign" in screen_text(app)
        selector = app.query_one("#dkim-selector-0", Input)
        assert selector.value == "nov2026"  # dated from the run's date
        selector.value = "dec2026"
        await pilot.click("#dkim-generate-0")
        await until(pilot, lambda: isinstance(app.screen, ConfirmApply), "confirmation shown")
        commands = "\n".join(str(w.render()) for w in app.screen.query(".command"))
        assert "umask 077" in commands
        assert "openssl genrsa -out /home/e-smith/dkim_keys/example.com/default 2048" in commands
        assert "db configuration setprop qpsmtpd DKIMSigning enabled" in commands
        assert not host.exists("/home/e-smith/dkim_keys/example.com")  # nothing before "yes"
        await pilot.press("y")
        await until(pilot, lambda: host.exists("/home/e-smith/dkim_keys/example.com/default"), "key written")
        await until(pilot, lambda: "dkim" not in app.probing and any(
            f.code == "DKIM019" for f in app.assessments["dkim"].findings), "re-verified")
        assert host.read_bytes("/home/e-smith/dkim_keys/example.com/selector") == b"dec2026\n"
        await until(pilot, lambda: "will sign" in screen_text(app), "the panel shows the new state")
        assert "dec2026._domainkey.example.com" in screen_text(app)

        record = app.current_records()[0]
        assert record.name == "dec2026._domainkey.example.com"
        await pilot.press("c")
        await until(pilot, lambda: app.clipboard != "", "copied")
        assert app.clipboard == record.value and "t=y" in record.value

        auth_server.publish(record)  # the admin, at the registrar
        await pilot.press("r")
        await until(pilot, lambda: "dkim" not in app.probing and any(
            f.code == "DKIM025" for f in app.assessments["dkim"].findings), "verified after publishing")
        await until(pilot, lambda: "verified: a message signed" in screen_text(app), "panel updated")
        # signing is verified: now the wizard offers the same record without t=y
        assert any(f.code == "DKIM022" for f in app.assessments["dkim"].findings)
        assert "t=y" not in app.current_records()[0].value

        shown = screen_text(app) + app.clipboard
        assert "PRIVATE KEY" not in shown
        assert not [line for line in key_lines(sim) if line in shown]


async def test_invalid_selector_changes_nothing(dkim_app):
    app, sim = dkim_app("fresh")
    async with app.run_test(size=(120, 70)) as pilot:
        await open_dkim(app, pilot)
        app.query_one("#dkim-selector-0", Input).value = "Dec 2026"
        await pilot.click("#dkim-generate-0")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmApply)
        assert any("selector" in n.message for n in app._notifications)
        assert not sim.host().exists("/home/e-smith/dkim_keys/example.com")


class StepViewHarness(App[None]):
    """The DKIM view alone, so the snapshot does not change when other steps land."""

    CSS_PATH = stylesheets()

    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="main"):
            yield view_class(self.snapshot.key)(self.snapshot, id="step-view")


def dkim_snapshot(sim_dns) -> StepSnapshot:
    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns, now=NOW)
    step = load_step(info("dkim"))

    async def probe():
        server = await probe_server(ctx)
        facts, assessment = await run_step(ctx, step, server)
        return server, facts, assessment

    server, facts, assessment = asyncio.run(probe())
    return StepSnapshot(info=info("dkim"), available=True, facts=facts, assessment=assessment,
                        server=server, domain=None, can_publish=True)


def test_dkim_view_snapshot(snap_compare, sim_dns):
    app = StepViewHarness(dkim_snapshot(sim_dns))
    assert snap_compare(app, terminal_size=(110, 60))


async def test_start_rotation_from_the_screen_shows_the_stages_in_order(dkim_app):
    app, sim = dkim_app("good")
    async with app.run_test(size=(120, 90)) as pilot:
        await open_dkim(app, pilot)
        assert app.query_one("#dkim-selector-0", Input).value == "nov2026"
        await pilot.click("#dkim-rotate-0")
        await until(pilot, lambda: isinstance(app.screen, ConfirmApply), "confirmation shown")
        await pilot.press("y")
        await until(pilot, lambda: sim.host().exists("/home/e-smith/dkim_keys/example.com.next/default"),
                    "staged key written")
        await until(pilot, lambda: "→ 2. Publish the new selector" in screen_text(app), "stages shown")
        text = screen_text(app)
        assert text.index("✓ 1. Generate") < text.index("→ 2. Publish") < text.index("4. Switch")
        assert "will sign" in text  # the old key keeps signing meanwhile
        assert any(r.name == "nov2026._domainkey.example.com" for r in app.assessments["dkim"].records)


def test_folders_the_wizard_may_not_read_are_unknown_and_offer_no_key(sim_dns):
    """As non-root the old folder and the links cannot be inspected: the panel says so and offers
    neither a selector nor a Generate button (a hidden key may already be published)."""
    from dataclasses import replace

    from smewizard.steps import dkim as dkim_step

    snap = dkim_snapshot(sim_dns)
    domains = []
    for d in snap.facts.domains:
        if d.domain == "example.com":
            denied = tuple(replace(w, private_name=None, denied=f"cannot inspect {w.path}/default")
                           for w in d.wrong)
            d = replace(d, wrong=denied,
                        links=replace(d.links, denied="cannot inspect links: Permission denied"))
        domains.append(d)
    facts = replace(snap.facts, domains=tuple(domains))
    snap = replace(snap, facts=facts, assessment=dkim_step.assess(facts))
    app = StepViewHarness(snap)

    async def shown() -> tuple[str, bool, bool, bool]:
        async with app.run_test(size=(120, 90)) as pilot:
            await pilot.pause()
            return (screen_text(app), bool(app.query("#dkim-selector-0")),
                    bool(app.query("#dkim-generate-0")), bool(app.query("#dkim-generate-2")))

    text, selector0, generate0, generate_shop = asyncio.run(shown())
    assert "/etc/qpsmtpd/dkim/example.com cannot be inspected (re-run as root)" in text
    assert "links: cannot be inspected" in text and "signing unknown" in text
    assert "no key can be proposed until the wizard runs as root" in text
    assert not selector0 and not generate0
    assert generate_shop  # shop.example.net really has no key: still offered


def _panel_text(snap: StepSnapshot) -> str:
    app = StepViewHarness(snap)

    async def shown() -> str:
        async with app.run_test(size=(120, 90)) as pilot:
            await pilot.pause()
            return screen_text(app)

    return asyncio.run(shown())


def test_domain_without_a_key_does_not_blame_email_update_for_missing_links(sim_dns):
    text = _panel_text(dkim_snapshot(sim_dns))
    org = text[text.index("example.org: per-domain key"):text.index("shop.example.net: no key")]
    shop = text[text.index("shop.example.net: no key"):]
    assert "email-update not run since keys changed" in org  # key present, links missing
    assert "not run since keys changed" not in shop.split("qpsmtpd will")[0]
    assert "links: none yet: email-update creates them once a key exists" in shop


async def test_opening_the_step_does_not_put_the_cursor_in_the_selector(dkim_app):
    app, _ = dkim_app("demo")
    async with app.run_test(size=(120, 60)) as pilot:
        await open_dkim(app, pilot)
        app.query_one("#steps").focus()
        await pilot.press("enter")  # like opening from the dashboard: focus moves into the step
        await pilot.pause()
        assert app.focused is not None and not isinstance(app.focused, Input), app.focused
        await pilot.press("3")
        await until(pilot, lambda: app.current == "dmarc", "the DMARC step opened")


async def test_after_apply_a_digit_key_goes_to_the_step_not_into_the_selector(dkim_app):
    app, sim = dkim_app("demo")
    async with app.run_test(size=(120, 60)) as pilot:
        await open_dkim(app, pilot)
        app.query_one("#dkim-selector-1", Input).focus()  # the admin looked at the selector
        await pilot.pause()
        app.action_apply()  # from the command palette or the footer
        await until(pilot, lambda: isinstance(app.screen, ConfirmApply), "confirmation shown")
        await pilot.press("y")
        await until(pilot, lambda: sim.host().exists("/home/e-smith/dkim_keys/example.com/default"),
                    "key copied")
        await until(pilot, lambda: "dkim" not in app.probing and len(app.screen_stack) == 1
                    and any(f.code == "DKIM029" for f in app.assessments["dkim"].findings),
                    "re-verified")
        await pilot.pause()
        assert not isinstance(app.focused, Input), app.focused
        await pilot.press("3")
        await until(pilot, lambda: app.current == "dmarc", "the DMARC step opened")
        assert all(i.value != "3" for i in app.query(Input))


async def test_escape_leaves_the_selector_so_keys_work_again(dkim_app):
    # QA4 M6: Tab put the cursor in the selector; letters were typed into it and Esc did nothing
    app, _ = dkim_app("demo")
    async with app.run_test(size=(120, 60)) as pilot:
        await open_dkim(app, pilot)
        selector = app.query_one("#dkim-selector-1", Input)
        selector.focus()
        await pilot.pause()
        before = selector.value
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.focused, Input), app.focused
        await pilot.press("h")
        await until(pilot, lambda: app.current == "dashboard", "h went home")
        assert selector.value == before
