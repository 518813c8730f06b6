"""Pilot tests of the wizard on the simulated SME root, with DNS from the loopback server."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from smewizard.dns import Dns
from smewizard.model import Status
from smewizard.sme.db import read_db
from smewizard.steps.base import Context
from smewizard.steps.registry import STEP_INFO
from smewizard.ui.app import SmeWizardApp
from smewizard.ui.screens.confirm import ConfirmApply
from smewizard.ui.status import SPINNER_FRAMES
from smewizard.ui.widgets.findings import FindingItem
from smewizard.ui.widgets.records import RecordCard
from smewizard.ui.widgets.sidebar import StepItem

RELAY_AND_SERVER_SPF = "v=spf1 ip4:203.0.113.10 ip4:198.51.100.25 ~all"


async def until(pilot: Pilot, condition: Callable[[], bool], what: str, limit: int = 600) -> None:
    """Let the app run until `condition` holds (workers finish in their own time)."""
    for _ in range(limit):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


def audited(app: SmeWizardApp) -> bool:
    return not app.probing and "spf" in app.assessments


@pytest.fixture
def make_app(sim_dns, auth_server, tmp_path):
    def make(scenario: str = "demo", **kwargs) -> tuple[SmeWizardApp, object]:
        sim, dns = sim_dns(scenario)
        ctx = Context(host=sim.host(), dns=dns)
        app = SmeWizardApp(
            ctx,
            server_label="simulated SME root · test",
            publisher=auth_server.publish,
            records_dir=tmp_path / "records",
            env={},  # no DISPLAY: only the OSC 52 route, as over SSH
            **{"start_step": "spf", **kwargs},
        )
        return app, sim

    return make


async def test_sidebar_shows_every_step_with_its_status(make_app):
    app, _ = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        items = {item.info.key: item for item in app.query(StepItem)}
        assert list(items) == [i.key for i in STEP_INFO]
        assert items["spf"].status is Status.FAIL  # demo: shop.example.net has no SPF
        assert items["spf"].has_class("-fail")
        for key, exists in app.available.items():
            if not exists:
                assert items[key].has_class("-na")
                assert "not yet available" in str(items[key].query_one(".na-note").render())


async def test_keys_and_sidebar_navigate_between_steps(make_app):
    app, _ = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        await pilot.press("down")
        assert app.current == "dkim"
        await pilot.press("4")
        await pilot.pause()
        assert app.current == "helo"
        assert app.query_one("#step-view").snapshot.key == "helo"
        await pilot.press("1")
        await pilot.pause()
        assert app.current == "spf"


async def test_command_palette_reaches_steps_and_copy(make_app):
    app, _ = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        titles = [c.title for c in app.palette_commands()]
        for expected in ("Go to step 4: HELO & PTR", "Re-verify this step", "Save records to file",
                         "Apply proposed server changes", "Quit smewizard"):
            assert expected in titles
        assert any(t.startswith("Copy record: shop.example.net TXT") for t in titles)

        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"go to step 4", "enter")
        await until(pilot, lambda: app.current == "helo", "palette moved to HELO")


async def test_domain_selector_narrows_the_findings(make_app):
    app, _ = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        await pilot.press("d", "enter", "down", "down", "enter")  # All, example.com, example.org
        await until(pilot, lambda: app.domain == "example.org", "example.org selected")
        await pilot.pause()
        shown = {item.finding.domain for item in app.query(FindingItem)}
        assert shown <= {"example.org", None} and "example.org" in shown


async def test_copy_sends_the_record_to_the_clipboard_and_save_writes_a_file(make_app, tmp_path):
    app, _ = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        app.select_domain("shop.example.net")
        await until(pilot, lambda: len(app.query("RecordCard .save-one")) == 1, "one record shown")
        await pilot.press("c")
        await until(pilot, lambda: app.clipboard != "", "something copied")
        assert app.clipboard == RELAY_AND_SERVER_SPF

        app.query_one(RecordCard).query_one(".save-one").focus()
        await pilot.press("enter")
        saved = tmp_path / "records" / "shop.example.net-txt.txt"
        await until(pilot, saved.exists, "the record file saved")
        text = saved.read_text()
        assert f"; value (one string): {RELAY_AND_SERVER_SPF}" in text
        assert f'@\t3600\tIN\tTXT\t"{RELAY_AND_SERVER_SPF}"' in text


async def test_publishing_then_reverifying_turns_the_domain_green(make_app):
    app, _ = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        app.select_domain("shop.example.net")
        await until(pilot, lambda: len(app.query("RecordCard .publish")) == 1, "one record shown")
        assert app.current_assessment().status is Status.FAIL

        card = app.query_one(RecordCard)
        card.query_one(".publish").focus()  # keyboard, like an admin tabbing to the button
        await pilot.press("enter")
        await until(
            pilot,
            lambda: not app.probing and app.current_assessment().status is Status.PASS,
            "shop.example.net passes after publish + re-verify",
        )
        assert not app.current_assessment().records  # nothing left to publish
        assert app.query_one("#step-spf", StepItem).status is Status.PASS  # sidebar refreshed


async def test_record_published_outside_then_r_reverifies(make_app, auth_server):
    app, _ = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        app.select_domain("shop.example.net")
        await until(pilot, lambda: len(app.query(RecordCard)) == 1, "one record shown")
        auth_server.publish(app.current_records()[0])  # the admin, at the registrar
        assert app.current_assessment().status is Status.FAIL  # nothing re-probed yet
        await pilot.press("r")
        await until(
            pilot,
            lambda: not app.probing and app.current_assessment().status is Status.PASS,
            "pass after r",
        )


def first_step_with_actions(app: SmeWizardApp) -> str | None:
    return next((k for k, a in app.assessments.items() if a.actions), None)


async def test_apply_asks_first_then_changes_the_db_and_reverifies(make_app):
    app, sim = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: audited(app) and all(
            k in app.assessments or k in app.errors for k, s in app.available.items() if s),
            "every step audited")
        key = first_step_with_actions(app)
        if key is None:
            pytest.skip("no built step proposes a server change on the demo scenario yet")
        setprops = [a for a in app.assessments[key].actions if type(a).__name__ == "SetProp"]
        if not setprops:
            pytest.skip(f"{key} proposes no SetProp to check in the db")
        target = setprops[0]
        before = read_db(sim.host(), target.db).prop(target.key, target.prop)
        assert before != target.value

        app.action_go_step(key)
        await pilot.pause()
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmApply), "confirmation shown")
        shown = "\n".join(str(w.render()) for w in app.screen.query(".command"))
        assert target.shell()[0] in shown
        await pilot.press("escape")  # cancel: nothing changes
        await pilot.pause()
        assert read_db(sim.host(), target.db).prop(target.key, target.prop) == before

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmApply), "confirmation shown again")
        await pilot.press("y")
        await until(
            pilot,
            lambda: read_db(sim.host(), target.db).prop(target.key, target.prop) == target.value,
            "the db changed",
        )
        await until(pilot, lambda: key not in app.probing and target not in app.assessments[key].actions,
                    "re-verified: the applied change is no longer proposed")


@pytest.fixture
def silent_dns_server():
    """A UDP socket that never answers: every lookup runs into its timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()
    finally:
        sock.close()


async def test_keys_are_handled_while_a_probe_waits_on_dns(sim_root, silent_dns_server):
    sim = sim_root("fresh")  # no ExternalIP: the public IP needs a DNS lookup that hangs
    ctx = Context(host=sim.host(), dns=Dns([silent_dns_server], timeout=3.0))
    app = SmeWizardApp(ctx, server_label="slow", env={}, start_step="spf")
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: "spf" in app.probing, "probing started")
        spf_item = app.query_one("#step-spf", StepItem)
        await pilot.pause(0.3)
        assert spf_item.has_class("-probing")
        assert str(spf_item.query_one(".step-label").render())[0] in SPINNER_FRAMES
        await pilot.press("4")
        await pilot.pause()
        assert app.current == "helo"
        assert "spf" in app.probing  # the key was handled while the probe was still waiting
        app.workers.cancel_all()


async def test_probe_failure_is_shown_in_the_view_not_raised(tmp_path):
    (tmp_path / "home/e-smith/db/configuration").mkdir(parents=True)  # unreadable: a directory
    from smewizard.host import LocalHost

    ctx = Context(host=LocalHost(tmp_path), dns=Dns([("127.0.0.1", 9)], timeout=0.2))
    app = SmeWizardApp(ctx, server_label="broken", env={}, start_step="spf")
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: not app.probing and "spf" in app.errors, "the probe failed")
        await pilot.pause()
        notice = app.query_one("#step-view .notice")
        assert "The probe failed" in str(notice.render())
        assert app.query_one(StepItem).status is Status.UNKNOWN


async def test_a_step_or_domain_opens_at_the_top_and_reverify_keeps_the_place(make_app):
    app, _ = make_app(start_step="dmarc")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: not app.probing and len(app.assessments) >= 6, "the audit finished")
        main = app.query_one("#main")
        await pilot.pause()
        assert main.max_scroll_y > 5  # the DMARC step is taller than the screen
        main.scroll_end(animate=False)
        await pilot.pause()
        assert main.scroll_y > 5
        app.reverify("dmarc")
        await until(pilot, lambda: "dmarc" in app.probing, "re-verify started")
        await until(pilot, lambda: "dmarc" not in app.probing, "re-verified")
        await pilot.pause()
        assert main.scroll_y > 5  # the same step rebuilt: the admin's place is kept
        await pilot.press("4")
        await until(pilot, lambda: app.current == "helo", "HELO opened")
        await pilot.pause()
        assert main.scroll_y == 0
        main.scroll_end(animate=False)
        await pilot.pause()
        assert main.scroll_y > 0
        app.select_domain("example.org")
        await until(pilot, lambda: app.domain == "example.org", "domain switched")
        await pilot.pause()
        assert main.scroll_y == 0
