"""Pilot tests of the safe-apply screens: the grouped preview (dry run and read-only show but
cannot apply), the Undo screen undoing a real run on the simulated server, and the start-up
notice about an interrupted run."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Button, OptionList, Static

from smewizard.actions.apply import PreviewItem, apply_actions, preview
from smewizard.actions.audit import append_line
from smewizard.actions.base import SetProp, SignalEvent
from smewizard.actions.journal import RUNS_DIR, list_runs
from smewizard.readonly import WriteAccess
from smewizard.sme.db import read_db
from smewizard.ui.screens.confirm import ConfirmApply
from smewizard.ui.screens.preview import PreviewApply, UndoScreen, item_lines, notify_if_interrupted

ACTIONS = [
    SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim"),
    SetProp("configuration", "qpsmtpd", "HeloHost", "mail.example.com", step="helo", domain="example.com"),
    SignalEvent("email-update", step="dkim"),
]


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.result: object = "unset"

    def show(self, screen) -> None:
        self.push_screen(screen, lambda value: setattr(self, "result", value))


async def until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


def texts(app: App) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


async def test_preview_groups_commands_and_applies_on_y(sim_root):
    sim = sim_root("demo")
    items = preview(sim.host(), ACTIONS)
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        app.show(PreviewApply("DKIM", items))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmApply)  # the app's tests and flow keep working
        shown = texts(app)
        assert "dkim · server-wide" in shown and "helo · example.com" in shown
        assert "disabled → enabled" in shown
        assert "# db configuration setprop qpsmtpd HeloHost mail.example.com" in shown
        await pilot.press("y")
        await pilot.pause()
        assert app.result is True


async def test_dry_run_and_read_only_previews_cannot_apply(sim_root):
    sim = sim_root("demo")
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        app.show(PreviewApply("DKIM", preview(sim.host(), ACTIONS), dry_run=True))
        await pilot.pause()
        assert "Dry run" in texts(app)
        assert not app.screen.query("#confirm-apply")
        await pilot.press("y")
        await pilot.pause()
        assert app.result == "unset"
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is False

        denied = WriteAccess(False, "the wizard runs as uid 1000, not root.", "re-run with sudo")
        app.show(PreviewApply("DKIM", preview(sim.host(), ACTIONS, denied), access=denied))
        await pilot.pause()
        assert "needs root" in texts(app) and "re-run with sudo" in texts(app)
        assert not app.screen.query("#confirm-apply")


async def test_undo_screen_undoes_the_selected_run(sim_root):
    sim = sim_root("demo")
    host = sim.host()
    assert apply_actions(host, ACTIONS).ok
    assert read_db(host, "configuration").prop("qpsmtpd", "DKIMSigning") == "enabled"
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        app.show(UndoScreen(host))
        await pilot.pause()
        await until(pilot, lambda: not app.screen.query_one("#undo-run", Button).disabled, "undo plan shown")
        assert "enabled → disabled" in texts(app)
        await pilot.press("u")  # the key that opens the screen does not undo (QA3 M1)
        await pilot.pause(0.2)
        assert not app.screen.undid and read_db(host, "configuration").prop("qpsmtpd", "DKIMSigning") == "enabled"
        await pilot.press("y")
        await until(pilot, lambda: app.screen.undid, "undo finished")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is True
    cfg = read_db(host, "configuration")
    assert cfg.prop("qpsmtpd", "DKIMSigning") == "disabled" and cfg.prop("qpsmtpd", "HeloHost") is None


async def test_after_an_undo_the_screen_offers_the_next_applied_run_not_a_redo(sim_root):
    sim = sim_root("demo")
    host = sim.host()
    assert apply_actions(host, ACTIONS[:1]).ok  # older run: DKIMSigning
    assert apply_actions(host, ACTIONS[1:]).ok  # newest run: HeloHost
    older, newest = (r.run_id for r in list_runs(host))
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        app.show(UndoScreen(host))
        await pilot.pause()
        runs = app.screen.query_one("#undo-runs", OptionList)
        button = app.screen.query_one("#undo-run", Button)
        await until(pilot, lambda: not button.disabled, "undo plan shown")
        assert runs.get_option_at_index(runs.highlighted).id == newest
        await pilot.press("y")
        await until(pilot, lambda: app.screen.undid, "undo finished")
        await until(pilot, lambda: len(list_runs(host)) == 3 and runs.option_count == 3
                    and runs.get_option_at_index(runs.highlighted).id == older and not button.disabled,
                    "the older applied run is offered, not the new undo run")
        await pilot.press("y")  # a second y undoes the older apply; it never re-applies the undone one
        await until(pilot, lambda: read_db(host, "configuration").prop("qpsmtpd", "DKIMSigning") == "disabled",
                    "older run undone")
    assert read_db(host, "configuration").prop("qpsmtpd", "HeloHost") is None


async def test_undo_screen_names_the_steps_of_each_run(sim_root):
    """QA2 Q3: the run list says which steps a run changed, not only how many actions."""
    sim = sim_root("demo")
    host = sim.host()
    assert apply_actions(host, ACTIONS).ok
    assert apply_actions(host, [SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step="bounce")]).ok
    dkim_helo, bounce = list_runs(host)
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        app.show(UndoScreen(host))
        await pilot.pause()
        runs = app.screen.query_one("#undo-runs", OptionList)
        await until(pilot, lambda: runs.option_count == 2, "the runs are listed")
        prompts = {runs.get_option_at_index(i).id: str(runs.get_option_at_index(i).prompt) for i in range(2)}
    assert "dkim, helo: 3 action(s)" in prompts[dkim_helo.run_id]
    assert "bounce: 1 action(s)" in prompts[bounce.run_id]


async def test_undo_screen_shows_why_an_undo_run_is_not_undone(sim_root):
    """QA2 Q4: an undo run is listed (it is history) but not undone: highlighted, the button
    stays disabled and the preview says how to re-apply instead."""
    from smewizard.actions.undo import find_run, plan_undo, undo_run

    sim = sim_root("demo")
    host = sim.host()
    applied = apply_actions(host, ACTIONS)
    undo = undo_run(host, plan_undo(host, find_run(host, applied.run_id)))
    assert undo.ok
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        app.show(UndoScreen(host))
        await pilot.pause()
        runs = app.screen.query_one("#undo-runs", OptionList)
        button = app.screen.query_one("#undo-run", Button)
        await until(pilot, lambda: runs.option_count == 2, "the runs are listed")
        assert f"undo of {applied.run_id} (dkim, helo)" in str(runs.get_option_at_index(0).prompt)
        runs.highlighted = 0  # newest first: the undo run
        await until(pilot, lambda: f"run {undo.run_id} is an undo of run {applied.run_id}" in texts(app),
                    "the refusal is shown")
        assert "`smewizard apply --step dkim` and `smewizard apply --step helo`" in texts(app)
        assert button.disabled
        await pilot.press("y")
        await pilot.pause(0.2)
    assert len(list_runs(host)) == 2
    assert read_db(host, "configuration").prop("qpsmtpd", "HeloHost") is None


async def test_start_up_notice_names_the_interrupted_run(sim_root):
    sim = sim_root("demo")
    host = sim.host()
    dead = subprocess.Popen(["true"])
    dead.wait()
    run_id = "20261125T010000-000001"
    entries = [
        {"event": "start", "run": run_id, "kind": "apply", "user": "root", "pid": dead.pid,
         "proc_start": "1", "machine": __import__("socket").gethostname(),
         "actions": [{"summary": "Set configuration qpsmtpd DKIMSigning to 'enabled'"}]},
        {"event": "begin", "index": 0, "previous": "disabled", "undo": []},
    ]
    for entry in entries:
        append_line(host, f"{RUNS_DIR}/{run_id}.jsonl", json.dumps(entry))
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        notify_if_interrupted(app, host)
        await until(pilot, lambda: bool(app._notifications), "notice shown")
        (note,) = list(app._notifications)
        assert "was interrupted" in note.message and "smewizard apply --resume" in note.message
        assert "interrupted: Set configuration qpsmtpd DKIMSigning" in note.message


async def test_the_wizard_warns_at_start_and_u_opens_the_undo_screen(sim_dns):
    from smewizard.steps.base import Context
    from smewizard.ui.app import SmeWizardApp

    sim, dns = sim_dns("demo")
    host = sim.host()
    dead = subprocess.Popen(["true"])
    dead.wait()
    run_id = "20261125T010000-000002"
    append_line(host, f"{RUNS_DIR}/{run_id}.jsonl", json.dumps({
        "event": "start", "run": run_id, "kind": "apply", "user": "root", "pid": dead.pid,
        "proc_start": "1", "machine": __import__("socket").gethostname(),
        "actions": [{"summary": "Set configuration qpsmtpd HeloHost to 'mail.example.com'"}]}))
    app = SmeWizardApp(Context(host=host, dns=dns), server_label="test", env={})
    async with app.run_test(size=(110, 40)) as pilot:
        await until(pilot, lambda: any("was interrupted" in n.message for n in app._notifications),
                    "interrupted-run notice")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, UndoScreen), "undo screen")
        await pilot.press("escape")


async def test_apply_progress_shows_each_action_and_can_stay_open(sim_root):
    from textual.widgets import Log

    from smewizard.ui.screens.preview import ApplyProgress

    sim = sim_root("demo")
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        progress = ApplyProgress("DKIM", len(ACTIONS))
        app.show(progress)
        await pilot.pause()

        def work() -> None:
            apply_actions(sim.host(), ACTIONS, on_progress=progress.on_progress, on_output=progress.on_output)
            app.call_from_thread(lambda: progress.finish("done", keep_open=True))

        app.run_worker(work, thread=True)
        await until(pilot, lambda: progress.finished, "apply finished")
        lines = list(app.screen.query_one("#progress-log", Log).lines)
        assert lines[0] == "[1/3] Set configuration qpsmtpd DKIMSigning to 'enabled'"
        assert lines[-1].startswith("[3/3] Run signal-event email-update")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ApplyProgress)


async def test_preview_lists_the_demo_dkim_commands_in_the_order_they_run(sim_dns):
    import asyncio

    from smewizard.engine import run_audit
    from smewizard.steps.base import Context

    sim, dns = sim_dns("demo")
    result = await asyncio.get_running_loop().run_in_executor(
        None, lambda: asyncio.run(run_audit(Context(host=sim.host(), dns=dns), ["dkim"])))
    actions = result.assessments["dkim"].actions
    app = Host()
    async with app.run_test(size=(110, 40)) as pilot:
        app.show(PreviewApply("DKIM", preview(sim.host(), actions)))
        await pilot.pause()
        shown = [w.lines[0] for w in app.screen.query(".command")]  # each item's first line, unwrapped
    ran: list[str] = []
    assert apply_actions(sim.host(), actions, on_progress=lambda i, n, a: ran.append(a.summary())).ok
    assert shown == [f"{n}. {summary}" for n, summary in enumerate(ran, start=1)]
    assert ran[-1].startswith("Check the qpsmtpd links") and any("email-update" in s for s in ran)


async def test_long_preview_scrolls_at_80x24_with_a_hint_and_the_buttons_on_screen(sim_dns):
    import asyncio

    from smewizard.engine import run_audit
    from smewizard.steps.base import Context
    from smewizard.ui.app import stylesheets

    class Styled(Host):
        CSS_PATH = stylesheets()

    sim, dns = sim_dns("demo")
    result = await asyncio.get_running_loop().run_in_executor(
        None, lambda: asyncio.run(run_audit(Context(host=sim.host(), dns=dns), ["dkim"])))
    app = Styled()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show(PreviewApply("DKIM", preview(sim.host(), result.assessments["dkim"].actions)))
        await pilot.pause()
        commands = app.screen.query_one("#confirm-commands")
        hint = app.screen.query_one("#confirm-more", Static)
        await until(pilot, lambda: "more commands below" in str(hint.render()), "the 'more below' hint")
        assert commands.max_scroll_y > 0 and commands.scroll_y == 0
        for button in ("#confirm-apply", "#confirm-cancel"):
            region = app.screen.query_one(button).region
            assert region.height > 0 and region.bottom <= 24, f"{button} off screen: {region}"
        assert hint.region.height == 1 and hint.region.bottom <= app.screen.query_one("#confirm-apply").region.y

        await pilot.press("pagedown")
        await until(pilot, lambda: commands.scroll_y > 1, "PageDown scrolled the list")
        await until(pilot, lambda: "above" in str(hint.render()), "the 'above' hint")
        await pilot.press("end")
        await until(pilot, lambda: commands.scroll_y == commands.max_scroll_y, "End reached the last command")
        assert "below" not in str(hint.render())
        await pilot.press("home")
        await until(pilot, lambda: commands.scroll_y == 0, "Home back to the top")
        await pilot.press("down")
        await until(pilot, lambda: commands.scroll_y == 1, "↓ scrolled one line")
        await pilot.press("up")
        await until(pilot, lambda: commands.scroll_y == 0, "↑ scrolled back")
        assert app.screen.focused is app.screen.query_one("#confirm-cancel")  # safe default kept
        await pilot.press("y")
        await pilot.pause()
        assert app.result is True


def test_the_undo_dialog_does_not_flag_its_own_steps_as_partly_undoable():
    item = PreviewItem(SignalEvent("email-update"), ("signal-event email-update",), None, None, undoable=False)
    assert "undo restores its db changes only" in item_lines(item)[0]  # an apply: a real limit
    assert "undo restores" not in item_lines(item, undoing=True)[0]  # a step of an undo (QA3 M3)
