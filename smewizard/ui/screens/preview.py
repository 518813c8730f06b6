"""Safe-apply screens: the preview/confirm modal (commands numbered in execution order,
labelled by step and domain, each with from → to), the Undo screen (runs recorded on the
server, undo one with its own preview and streamed progress), and the start-up notice about an
interrupted run.

The screens do no I/O on the event loop: reading runs, computing an undo plan and undoing run
in thread workers. See docs/safe-apply.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Log, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from smewizard.actions.apply import PreviewItem, group_preview, preview
from smewizard.actions.journal import RunRecord, interruption_notice, list_runs
from smewizard.host.base import Host
from smewizard.readonly import NEEDS_ROOT, WriteAccess, rerun_hint, write_access
from smewizard.ui.screens.confirm import CommandLines, ConfirmApply


def item_lines(item: PreviewItem, number: int | None = None, undoing: bool = False) -> list[str]:
    """An action's lines; `undoing`: it is a step of an undo, which is itself never undone."""
    flags = [NEEDS_ROOT] if item.needs_root else []
    if not item.undoable and not undoing:
        flags.append("undo restores its db changes only")
    prefix = f"{number}. " if number is not None else ""
    lines = [prefix + item.action.summary() + (f"  ({', '.join(flags)})" if flags else "")]
    if item.current is not None or item.target is not None:
        lines.append(f"  {item.current if item.current is not None else '(not set)'} → "
                     f"{item.target if item.target is not None else '(unchanged)'}")
    lines.extend(f"  # {cmd}" for cmd in item.commands)
    return lines


def runnable(items: Sequence[PreviewItem], dry_run: bool) -> bool:
    return bool(items) and not dry_run and not any(i.needs_root for i in items)


class PreviewApply(ConfirmApply):
    """ConfirmApply with the commands numbered in the order they run, runs of one step and
    domain under a label (a label repeats rather than reorder), and what each changes from →
    to. In a dry run, or without write access, there is no Apply button: it only shows."""

    def __init__(
        self,
        step_title: str,
        items: Sequence[PreviewItem],
        *,
        dry_run: bool = False,
        access: WriteAccess | None = None,
    ) -> None:
        super().__init__(step_title, items)
        self.dry_run = dry_run
        if access is None and any(i.needs_root for i in self.items):
            access = WriteAccess(False, "the wizard may not change this server.", rerun_hint())
        self.access = access

    def compose(self) -> ComposeResult:
        can_apply = runnable(self.items, self.dry_run)
        with Vertical(id="confirm-dialog", classes="preview-dialog"):
            yield Static(Content(f"{self.step_title}: {'these commands would run, in this order' if not can_apply else 'run these commands on the server, in this order?'}"),
                         id="confirm-title")
            if self.dry_run:
                yield Static("Dry run: the commands are shown, nothing will be changed.", classes="preview-banner")
            if self.access is not None and not self.access.allowed:
                yield Static(Content(self.access.message), classes="preview-banner -needs-root")
            with VerticalScroll(id="confirm-commands"):
                number = 0
                for step, domain, group in group_preview(self.items):
                    yield Static(Content(f"{step or 'server'} · {domain or 'server-wide'}"), classes="preview-group")
                    for item in group:
                        number += 1
                        yield CommandLines(item_lines(item, number), classes="command")
            yield Static(id="confirm-more")
            with Horizontal(classes="buttons"):
                if can_apply:
                    yield Button("Apply (y)", id="confirm-apply", variant="warning")
                yield Button("Cancel (esc)" if can_apply else "Close (esc)", id="confirm-cancel")

    def action_confirm(self) -> None:
        if runnable(self.items, self.dry_run):
            self.dismiss(True)


def _default_choice(newest_first: list[RunRecord]) -> int:
    """The run `smewizard undo --last` would undo: the newest applied, not yet undone run.
    Never an undo run by default: after an undo the list reloads, and one more `u` must not
    re-apply (partly: db changes only) what was just undone."""
    for index, run in enumerate(newest_first):
        if run.kind != "undo" and run.undone_by is None and run.begun:
            return index
    return 0


class UndoScreen(ModalScreen[bool]):
    """Pick a recorded run, see what undoing it runs, undo it. Dismisses True if it undid."""

    # `y` confirms, as in the apply dialog: `u` opens this screen, so `u u` must not undo
    BINDINGS = [Binding("escape", "close", "Close"), Binding("y", "undo", "Undo")]

    def __init__(self, host: Host, *, dry_run: bool = False) -> None:
        super().__init__()
        self.host = host
        self.dry_run = dry_run
        self.runs: dict[str, RunRecord] = {}
        self.selected: str | None = None
        self.plan = None
        self.undid = False

    def compose(self) -> ComposeResult:
        with Vertical(id="undo-dialog"):
            yield Static("Undo an earlier apply", id="undo-title")
            yield OptionList(id="undo-runs")
            with VerticalScroll(id="undo-preview"):
                yield Static("Reading the runs recorded on the server…", id="undo-plan")
            yield Log(id="undo-log", max_lines=500)
            with Horizontal(classes="buttons"):
                yield Button("Undo this run (y)", id="undo-run", variant="warning", disabled=True)
                yield Button("Close (esc)", id="undo-close")

    def on_mount(self) -> None:
        self.query_one("#undo-log", Log).display = False
        self.load_runs()

    @work(thread=True, exclusive=True, group="undo")
    def load_runs(self) -> None:
        try:
            runs = list_runs(self.host)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.app.call_from_thread(self._show_plan, f"Cannot read the runs: {exc}", False)
            return
        self.app.call_from_thread(self._show_runs, runs)

    def _show_runs(self, runs: list[RunRecord]) -> None:
        if not self.is_current:
            return  # closed while the worker read
        self.runs = {r.run_id: r for r in runs}
        options = self.query_one("#undo-runs", OptionList)
        options.clear_options()
        for run in reversed(runs):
            options.add_option(Option(Content(run.describe()), id=run.run_id))
        if not runs:
            self._show_plan("No runs are recorded on this server.", False)
        else:
            options.highlighted = _default_choice(list(reversed(runs)))
            options.focus()

    @on(OptionList.OptionHighlighted, "#undo-runs")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.selected = event.option.id
        self.query_one("#undo-run", Button).disabled = True
        if self.selected:
            self.compute_plan(self.selected)

    @work(thread=True, exclusive=True, group="undo-plan")
    def compute_plan(self, run_id: str) -> None:
        from smewizard.actions.undo import UndoError, pending_actions, plan_undo

        run = self.runs[run_id]
        try:
            plan = plan_undo(self.host, run)
            access = write_access(self.host, ["undo", run_id])
            items = preview(self.host, pending_actions(self.host, plan), access)
        except UndoError as exc:
            self.app.call_from_thread(self._show_plan, str(exc), False)
            return
        lines = [f"Undo {run.describe()}"]
        lines += [f"cannot be undone: {s}" for s in plan.not_undoable]
        lines += [f"only its db changes are undone: {s}" for s in plan.db_only]
        if not access.allowed:
            lines.append(access.message)
        if self.dry_run:
            lines.append("Dry run: nothing will be changed.")
        for item in items:
            lines += item_lines(item, undoing=True)
        ok = access.allowed and not self.dry_run and bool(items)
        self.plan = plan
        self.app.call_from_thread(self._show_plan, "\n".join(lines), ok)

    def _show_plan(self, text: str, can_undo: bool) -> None:
        if not self.is_current:
            return
        self.query_one("#undo-plan", Static).update(Content(text))
        self.query_one("#undo-run", Button).disabled = not can_undo

    @on(Button.Pressed, "#undo-run")
    def action_undo(self) -> None:
        button = self.query_one("#undo-run", Button)
        if button.disabled or self.plan is None:
            return
        button.disabled = True
        log = self.query_one("#undo-log", Log)
        log.display = True
        self.run_undo(self.plan)

    @work(thread=True, exclusive=True, group="undo")
    def run_undo(self, plan) -> None:
        from smewizard.actions.undo import undo_run

        log = self.query_one("#undo-log", Log)

        def write(text: str) -> None:
            if self.is_current:
                log.write_line(text)

        def say(text: str) -> None:
            self.app.call_from_thread(write, text)

        try:
            report = undo_run(
                self.host, plan,
                on_progress=lambda i, n, a: say(f"[{i + 1}/{n}] {a.summary()}"),
                on_output=lambda a, line: say(f"    {line}"),
            )
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            say(f"Undo failed: {exc}")
            return
        if report.refused:
            say(report.refused)
        elif report.ok:
            self.undid = True
            say(f"Undone (run {report.run_id}); re-verify to see the result.")
        else:
            failed = next(o for o in report.outcomes if not o.ok)
            say(f"Stopped: {failed.action.summary()} failed: {failed.error}")
        self.app.call_from_thread(lambda: self.is_current and self.load_runs())

    @on(Button.Pressed, "#undo-close")
    def action_close(self) -> None:
        self.dismiss(self.undid)


class ApplyProgress(ModalScreen[None]):
    """While an apply runs: which action of how many, and the output of long commands
    (signal-event) line by line. The callbacks are safe to call from the apply worker."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, title: str, total: int) -> None:
        super().__init__()
        self.title_text = title
        self.total = total
        self.finished = False

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-dialog"):
            yield Static(Content(f"{self.title_text}: applying {self.total} change(s)…"), id="progress-title")
            yield ProgressBar(total=max(self.total, 1), show_eta=False, id="progress-bar")
            yield Log(id="progress-log", max_lines=1000)
            with Horizontal(classes="buttons"):
                yield Button("Close (esc)", id="progress-close", disabled=True)

    # called from the worker thread
    def on_progress(self, index: int, total: int, action) -> None:
        self.app.call_from_thread(self._step, index, action.summary())

    def on_output(self, action, line: str) -> None:
        self.app.call_from_thread(self._line, f"    {line}")

    def _step(self, index: int, summary: str) -> None:
        if self.is_current:
            self.query_one("#progress-bar", ProgressBar).update(progress=index)
            self._line(f"[{index + 1}/{self.total}] {summary}")

    def _line(self, text: str) -> None:
        if self.is_current:
            self.query_one("#progress-log", Log).write_line(text)

    def finish(self, summary: str, *, keep_open: bool = False) -> None:
        """On the event loop, when the apply ended. A success closes the screen (the app
        notifies and re-verifies); a failure keeps it open so its output can be read."""
        self.finished = True
        if not self.is_current:
            return
        if not keep_open:
            self.dismiss(None)
            return
        self.query_one("#progress-bar", ProgressBar).update(progress=self.total)
        self.query_one("#progress-title", Static).update(Content(f"{self.title_text}: {summary}"))
        button = self.query_one("#progress-close", Button)
        button.disabled = False
        button.focus()

    @on(Button.Pressed, "#progress-close")
    def action_close(self) -> None:
        if self.finished:
            self.dismiss(None)


def notify_if_interrupted(app: App, host: Host) -> None:
    """At start: tell the admin when a previous run was interrupted (read in a thread)."""

    def check() -> None:
        notice = interruption_notice(host)
        if notice:
            app.call_from_thread(
                app.notify, notice + "\nOr use the command palette: “Undo a previous apply”.",
                title="Interrupted run", severity="warning", timeout=30,
            )

    app.run_worker(check, thread=True, group="interrupted", exclusive=True)
