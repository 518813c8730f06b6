"""The dashboard (home screen): the Summary Checklist from a real audit of the simulated server."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from smewizard import checklist
from smewizard.dns import Dns
from smewizard.engine import run_audit
from smewizard.steps.base import Context
from smewizard.ui.app import DASHBOARD, SmeWizardApp, stylesheets
from smewizard.ui.screens.dashboard import Dashboard, DashboardSnapshot
from tests.ui.test_app import until


def audited(app: SmeWizardApp) -> bool:
    return app.server is not None and not app.probing and all(
        k in app.assessments or k in app.errors for k, ok in app.available.items() if ok)


def cell_text(table: DataTable, row: str, column: str) -> str:
    return str(table.get_cell(row, column))


def make_app(sim_dns, **kwargs) -> SmeWizardApp:
    sim, dns = sim_dns("demo")
    return SmeWizardApp(Context(host=sim.host(), dns=dns), server_label="simulated SME root · test", env={}, **kwargs)


async def test_home_screen_is_the_checklist_with_a_column_per_domain(sim_dns):
    app = make_app(sim_dns)
    async with app.run_test(size=(140, 40)) as pilot:
        assert app.current == DASHBOARD
        await until(pilot, lambda: audited(app), "the audit finished")
        await pilot.pause(0.2)
        table = app.query_one("#checklist", DataTable)
        assert table.row_count == len(checklist.ITEMS)
        assert [c.label.plain for c in table.columns.values()][2:] == [
            "example.com", "example.org", "shop.example.net", "server"]
        assert "fail" in cell_text(table, "dkim-signing", "server")
        assert cell_text(table, "dkim-signing", "example.com") == ""
        assert "warn" in cell_text(table, "spf-no-ptr", "example.org")
        assert "pass" in cell_text(table, "spf-no-ptr", "example.com")


async def test_enter_on_a_cell_opens_that_step_for_that_domain(sim_dns):
    app = make_app(sim_dns)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        table = app.query_one("#checklist", DataTable)
        table.focus()
        table.cursor_coordinate = (table.get_row_index("spf-no-ptr"), table.get_column_index("example.org"))
        await pilot.press("enter")
        await until(pilot, lambda: app.current == "spf", "the SPF step shown")
        assert app.domain == "example.org"
        assert app.query_one("#step-view").snapshot.domain == "example.org"
        await pilot.press("h")
        await until(pilot, lambda: app.query(Dashboard), "back home")
        table = app.query_one("#checklist", DataTable)
        table.focus()
        table.cursor_coordinate = (table.get_row_index("junkmail"), table.get_column_index("server"))
        await pilot.press("enter")
        await until(pilot, lambda: app.current == "bounce", "the bounce step shown")


async def test_a_step_that_is_not_available_shows_na_never_pass(sim_dns):
    app = make_app(sim_dns)
    app.available["verify"] = False
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        await pilot.pause(0.2)
        table = app.query_one("#checklist", DataTable)
        assert {cell_text(table, "end-to-end", d) for d in ("example.com", "example.org")} == {"· n.a."}


async def test_results_update_the_table_in_place(sim_dns):
    app = make_app(sim_dns)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        first = app.query_one(Dashboard)
        before = app.assessments["spf"]
        app.reverify("spf")
        await until(pilot, lambda: app.assessments["spf"] is not before and audited(app), "re-verified")
        assert app.query_one(Dashboard) is first  # no remount: focus and cursor stay
        assert "warn" in cell_text(app.query_one("#checklist", DataTable), "spf-no-ptr", "example.org")


async def test_a_step_being_probed_shows_probing_not_a_stale_verdict():
    cl = checklist.build(("example.com",), {})
    app = DashboardHarness(DashboardSnapshot(cl, probing=frozenset({"spf"})))
    async with app.run_test(size=(120, 30)):
        table = app.query_one("#checklist", DataTable)
        assert cell_text(table, "spf-no-ptr", "example.com") == "… probing"
        assert cell_text(table, "dkim-keys", "example.com") == "· n.a."


def rendered_row(table: DataTable, row: str) -> str:
    return table.render_line(table.get_row_index(row) + 1).text  # + 1: the header line


async def test_updated_cells_are_painted_and_the_other_rows_stay_as_they_were():
    probing = DashboardSnapshot(checklist.build(("example.com",), {}), probing=frozenset({"spf", "dkim"}))
    app = DashboardHarness(probing)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#checklist", DataTable)
        await pilot.pause()
        assert "probing" in rendered_row(table, "spf-no-ptr")
        assert "probing" in rendered_row(table, "dkim-keys")
        app.query_one(Dashboard).update_snapshot(
            DashboardSnapshot(probing.checklist, probing=frozenset({"dkim"})))
        await pilot.pause()
        assert "probing" not in rendered_row(table, "spf-no-ptr")
        assert "n.a." in rendered_row(table, "spf-no-ptr")
        assert "probing" in rendered_row(table, "dkim-keys")
        assert cell_text(table, "spf-no-ptr", "example.com") == "· n.a."


class DashboardHarness(App[None]):
    CSS_PATH = stylesheets()

    def __init__(self, snapshot: DashboardSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="main"):
            yield Dashboard(self.snapshot, id="step-view")


def test_dashboard_snapshot(snap_compare, sim_dns, auth_server):
    sim, _ = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=Dns([auth_server.address], timeout=5.0))
    result = asyncio.run(run_audit(ctx))
    snapshot = DashboardSnapshot(checklist.build(result.server.domains, result.assessments))
    assert snap_compare(DashboardHarness(snapshot), terminal_size=(130, 24))


async def test_many_domains_are_paged_to_what_fits_and_all_reachable(sim_dns):
    sim, dns = sim_dns("many-domains", size=12)
    app = SmeWizardApp(Context(host=sim.host(), dns=dns), server_label="test", env={})
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        dashboard = app.query_one(Dashboard)
        seen: list[str] = []
        for _ in range(12):
            table = app.query_one("#checklist", DataTable)
            shown = [c.label.plain for c in table.columns.values()][2:-1]
            assert shown and len(shown) < 12
            seen += [d for d in shown if d not in seen]
            if len(seen) == 12:
                break
            table.focus()
            await pilot.press("]")
            await pilot.pause(0.05)
        assert seen == list(app.server.domains)
        assert "of 12 shown: ] next, [ previous" in str(app.query_one("#dashboard-totals").render())
        await pilot.press("[")
        assert dashboard.page == len(dashboard.pages()) - 2


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_server_column_and_every_shown_domain_fit_the_width(sim_dns, size):
    """QA T9: at 80 columns the server column was cut mid-word with no sign of more; now the
    page holds what fits (no horizontal scrolling), and a line says how to see the rest."""
    sim, dns = sim_dns("demo")
    app = SmeWizardApp(Context(host=sim.host(), dns=dns), server_label="test", env={})
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        await pilot.pause(0.1)
        table = app.query_one("#checklist", DataTable)
        labels = [c.label.plain for c in table.columns.values()]
        assert labels[-1] == "server" and table.max_scroll_x == 0
        totals = str(app.query_one("#dashboard-totals").render())
        shown = len(labels) - (3 if "Guide" in labels else 2)
        if shown < len(app.server.domains):
            assert f"of {len(app.server.domains)} shown: ] next, [ previous" in totals


async def test_home_offers_no_apply_copy_or_save_and_a_stray_a_is_harmless(sim_dns):
    # the dashboard has no proposed changes of its own: `a` from the palette or a key used to
    # crash the app (QA3 H1); the footer only offers what works here
    app = make_app(sim_dns)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        assert not {"a", "c", "s"} & set(app.active_bindings)
        assert "right_square_bracket" not in app.active_bindings  # three domains fit: no "More domains"
        app.action_apply()  # what the palette would call
        await pilot.press("a")
        await pilot.pause(0.1)
        assert app.is_running and app.current == DASHBOARD
        assert not any("Apply proposed" in c.title for c in app.palette_commands())
        app.action_go_step("helo")
        await until(pilot, lambda: "a" in app.active_bindings, "Apply offered on a step")


async def test_more_domains_is_offered_only_when_some_are_on_another_page(sim_dns):
    sim, dns = sim_dns("many-domains", size=12)
    app = SmeWizardApp(Context(host=sim.host(), dns=dns), server_label="test", env={})
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: audited(app), "the audit finished")
        app.query_one("#checklist", DataTable).focus()
        await pilot.pause(0.05)
        assert "right_square_bracket" in app.active_bindings
