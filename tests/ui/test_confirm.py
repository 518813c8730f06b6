"""The confirmation dialog's layout: the command list uses the screen height it has (QA2 Q5:
at 120×40 it used half and said "more below" over empty rows), and a wrapped command continues
indented under its text instead of at column 0, where it looked like a separate command."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App
from textual.widgets import Static

from smewizard.actions.apply import preview
from smewizard.actions.base import SetProp
from smewizard.engine import run_audit
from smewizard.steps.base import Context
from smewizard.ui.app import stylesheets
from smewizard.ui.screens.confirm import ConfirmApply, hanging_wrap
from smewizard.ui.screens.preview import PreviewApply
from tests.ui.test_preview import until


class Styled(App[None]):
    CSS_PATH = stylesheets()


@pytest.fixture
def demo_dkim(sim_dns):
    """The demo's DKIM actions (8 changes, long paths): the dialog's real worst case."""
    sim, dns = sim_dns("demo")

    def audit():
        return asyncio.run(run_audit(Context(host=sim.host(), dns=dns), ["dkim"]))

    return sim.host(), audit().assessments["dkim"].actions


def shown_lines(widget) -> list[str]:
    """What the terminal shows of `widget`, row by row."""
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


def test_hanging_wrap_indents_continuations_under_the_text():
    line = "  # cp -a /etc/qpsmtpd/dkim/example.com /home/e-smith/dkim_keys/example.com"
    assert hanging_wrap(line, 50) == [
        "  # cp -a /etc/qpsmtpd/dkim/example.com",
        "    /home/e-smith/dkim_keys/example.com",
    ]
    assert hanging_wrap("12. Copy the DKIM key for example.com from here to there", 40) == [
        "12. Copy the DKIM key for example.com",
        "    from here to there",
    ]
    assert hanging_wrap("  from: a rather long current value that wraps", 30)[1].startswith("    ")
    assert hanging_wrap(line, 200) == [line]  # fits: unchanged


@pytest.mark.parametrize("screen", [PreviewApply, ConfirmApply])
async def test_long_list_uses_the_screen_height_at_120x40(demo_dkim, screen):
    host, actions = demo_dkim
    app = Styled()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(screen("DKIM", preview(host, actions)))
        hint = app.screen.query_one("#confirm-more", Static)
        await until(pilot, lambda: "more commands below" in str(hint.render()), "the 'more below' hint")
        await pilot.pause()
        dialog = app.screen.query_one("#confirm-dialog").region
        buttons = app.screen.query_one("#confirm-cancel").region
        assert dialog.height == 40
        # nothing but the dialog's border under the buttons: the list took the rest
        assert buttons.bottom == dialog.bottom - 1, (dialog, buttons)
        assert hint.region.bottom <= buttons.y


async def test_a_list_that_fits_is_shown_whole_without_a_hint(sim_root):
    host = sim_root("demo").host()
    # 21 rows of commands: more than half of 40 rows, well within the screen
    items = preview(host, [SetProp("configuration", "qmail", f"Prop{i}", "x", step="bounce") for i in range(5)])
    app = Styled()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(PreviewApply("Bounces", items))
        await pilot.pause()
        await pilot.pause()
        commands = app.screen.query_one("#confirm-commands")
        assert commands.max_scroll_y == 0
        assert not app.screen.query_one("#confirm-more").display
        assert app.screen.query_one("#confirm-dialog").region.height < 40  # no empty rows either

        one = preview(host, [SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step="bounce")])
        app.pop_screen()
        await app.push_screen(PreviewApply("Bounces", one))
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one("#confirm-dialog").region.height <= 15


async def test_a_wrapped_command_continues_indented_at_80x24(demo_dkim):
    host, actions = demo_dkim
    app = Styled()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(PreviewApply("DKIM", preview(host, actions)))
        await pilot.pause()
        await pilot.pause()
        lines = [line for w in app.screen.query(".command") for line in shown_lines(w)]
    copy = next(i for i, line in enumerate(lines) if line.startswith("  # cp -a "))
    assert lines[copy + 1] == "    /home/e-smith/dkim_keys/example.com", lines[copy:copy + 2]
    # every row is a new line of the item (number, from → to, # command) or an indented continuation
    assert all(line == "" or line[0].isdigit() or line.startswith(("  ", "  # ")) for line in lines)
