"""The wizard's Textual app: sidebar of steps, domain selector, the selected step's view.

The app owns the run Context and does every piece of I/O in thread workers (probes run in
their own asyncio loop there, so even a blocking library call inside a probe cannot freeze the
screen). Views only render a StepSnapshot and post request messages (ui/messages.py) back here.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, ListItem, ListView, Select, TextArea

from smewizard import checklist
from smewizard.actions.apply import ApplyReport, PreviewItem, apply_actions, preview
from smewizard.actions.base import Action
from smewizard.engine import run_context, run_step
from smewizard.model import Assessment, Record
from smewizard.steps.base import Context, ServerFacts, Step
from smewizard.steps.registry import STEP_INFO, StepInfo, load_step
from smewizard.steps.server import probe_server
from smewizard.ui import clipboard
from smewizard.ui.commands import WizardCommands
from smewizard.ui.messages import (
    ApplyRequested,
    CopyRequested,
    PublishRequested,
    ReverifyRequested,
    SaveRequested,
)
from smewizard.ui.screens.dashboard import Dashboard, DashboardSnapshot
from smewizard.ui.screens.preview import (
    ApplyProgress,
    PreviewApply,
    UndoScreen,
    notify_if_interrupted,
)
from smewizard.ui.screens.step import view_class
from smewizard.ui.snapshot import StepSnapshot
from smewizard.ui.widgets.sidebar import StepSidebar

ALL_DOMAINS = "*"
DASHBOARD = "dashboard"  # the home screen (ui/screens/dashboard.py), shown above the steps
STEP_ONLY_ACTIONS = frozenset({"apply", "copy_record", "save_records"})  # nothing to act on at home
Publisher = Callable[[Record], None]


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    run: Callable[[], Any]


def step_module_exists(info: StepInfo) -> bool:
    try:
        return importlib.util.find_spec(info.module) is not None
    except (ImportError, ValueError):
        return False


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def default_server_label(ctx: Context) -> str:
    servers = ", ".join(f"{ip}:{port}" for ip, port in ctx.dns.nameservers)
    return f"{ctx.host.description} · DNS {servers or 'system resolver'}"


def stylesheets() -> list[Path]:
    """app.tcss, then every step's own screens/<key>.tcss."""
    here = Path(__file__).parent
    return [here / "app.tcss", *sorted((here / "screens").glob("*.tcss"))]


class SmeWizardApp(App[None]):
    CSS_PATH = stylesheets()
    TITLE = "smewizard"
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS = [
        Binding("r", "reverify", "Re-verify"),
        Binding("a", "apply", "Apply"),
        Binding("c", "copy_record", "Copy"),
        Binding("s", "save_records", "Save"),
        Binding("d", "choose_domain", "Domain"),
        Binding("n", "next_step", "Next", show=False),
        Binding("p", "previous_step", "Previous", show=False),
        *(Binding(str(n), f"go_step('{i.key}')", i.title, show=False) for n, i in enumerate(STEP_INFO, 1)),
        Binding("u", "undo", "Undo", show=False),  # in the palette; footer is full at 80 columns
        Binding("t", "send_test", "Send test", show=False),  # Test & logs; works with the sidebar focused too
        Binding("h", "go_dashboard", "Home"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(
        self,
        ctx: Context,
        *,
        server_label: str | None = None,
        publisher: Publisher | None = None,
        records_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        start_step: str = DASHBOARD,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.server_label = server_label or default_server_label(ctx)
        self.publisher = publisher
        self.records_dir = records_dir
        self.env = dict(os.environ if env is None else env)
        self.errors: dict[str, str] = {}
        # Which steps exist is known without importing them; the import (pyspf, dkimpy, …)
        # happens in the first probe's worker, so the first frame does not wait for it.
        self.available: dict[str, bool] = {i.key: step_module_exists(i) for i in STEP_INFO}
        self._loaded: dict[str, Step | None] = {}
        self.current = start_step
        self.domain: str | None = None
        self.server: ServerFacts | None = None
        self.facts: dict[str, Any] = {}
        self.assessments: dict[str, Assessment] = {}
        self.probing: set[str] = set()
        self._render_lock = asyncio.Lock()
        self._shown: tuple[str, str | None] | None = None  # (step, domain) in the main area
        self._scroll_pending: float | None = None  # asked of #main, not yet laid out

    def step(self, key: str) -> Step:
        """The step's implementation (imported on first use; raises if it cannot be)."""
        if key not in self._loaded:
            self._loaded[key] = load_step(self.info(key))
        step = self._loaded[key]
        if step is None:
            raise LookupError(f"smewizard.steps.{key} defines no STEP")
        return step

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield Select(
                    [("All domains", ALL_DOMAINS)], value=ALL_DOMAINS, allow_blank=False,
                    id="domain", prompt="Domain",
                )
                yield ListView(ListItem(Label("⌂ Dashboard"), id="home-item"), id="home")
                yield StepSidebar(
                    [(info, self.available[info.key]) for info in STEP_INFO], id="steps"
                )
            yield VerticalScroll(id="main")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = self.server_label
        sidebar = self.query_one(StepSidebar)
        sidebar.index = self._step_index(self.current) if self.current != DASHBOARD else None
        (self.query_one("#home", ListView) if self.current == DASHBOARD else sidebar).focus()
        await self.render_current()
        self.run_audit_worker()
        notify_if_interrupted(self, self.ctx.host)  # a killed earlier apply: say so at start

    # ------------------------------------------------------------ snapshots and rendering
    def info(self, key: str) -> StepInfo:
        return next(i for i in STEP_INFO if i.key == key)

    def snapshot(self, key: str) -> StepSnapshot:
        assessment = self.assessments.get(key)
        if assessment is not None and self.domain is not None:
            assessment = assessment.for_domain(self.domain)
        return StepSnapshot(
            info=self.info(key),
            available=self.available[key],
            probing=key in self.probing,
            facts=self.facts.get(key),
            assessment=assessment,
            server=self.server,
            domain=self.domain,
            can_publish=self.publisher is not None,
            error=self.errors.get(key),
        )

    async def render_current(self) -> None:
        """Rebuild the main area from the current step's snapshot: a rebuilt step keeps its
        scroll place, a newly opened step or domain starts at the top."""
        self.refresh_bindings()  # the footer offers Apply/Copy/Save on steps only (check_action)
        async with self._render_lock:
            main = self.query_one("#main", VerticalScroll)
            shown, self._shown = self._shown, (self.current, self.domain)
            if self.current == DASHBOARD:
                await self._render_dashboard(main)
                return
            # a rebuild right after another reads the place asked for, not the one laid out yet
            place = main.scroll_y if self._scroll_pending is None else self._scroll_pending
            scroll_y = place if shown == self._shown else 0
            focused = self.focused
            in_main = focused is not None and main in focused.ancestors
            # a rebuilt text field must not catch the next key (digits switch steps)
            refocus = focused.id if in_main and not isinstance(focused, Input) else None
            snapshot = self.snapshot(self.current)
            await main.remove_children()
            await main.mount(view_class(self.current)(snapshot, id="step-view"))
            main.scroll_to(y=scroll_y, animate=False)  # after the next refresh, like:
            self._scroll_pending = scroll_y
            main.call_after_refresh(self._scroll_settled, scroll_y)
            again = main.query(f"#{refocus}") if refocus else None
            if again:  # e.g. the Re-verify button the admin just pressed
                again.first().focus(scroll_visible=False)
            elif in_main:
                main.focus(scroll_visible=False)

    def _scroll_settled(self, scroll_y: float) -> None:
        if self._scroll_pending == scroll_y:
            self._scroll_pending = None

    def dashboard_snapshot(self) -> DashboardSnapshot:
        assessments = {k: a for k, a in self.assessments.items() if self.available.get(k)}
        domains = self.server.domains if self.server is not None else ()
        return DashboardSnapshot(checklist.build(domains, assessments), frozenset(self.probing),
                                 started=self.server is not None)

    async def _render_dashboard(self, main: VerticalScroll) -> None:
        """Update the mounted dashboard in place (no remount while results stream in)."""
        snapshot = self.dashboard_snapshot()
        shown = main.query(Dashboard)
        if shown:
            shown.first().update_snapshot(snapshot)
            return
        await main.remove_children()
        await main.mount(Dashboard(snapshot, id="step-view"))

    def _refresh_sidebar(self) -> None:
        sidebar = self.query_one(StepSidebar)
        for info in STEP_INFO:
            item = sidebar.item(info.key)
            item.probing = info.key in self.probing
            item.status = self.snapshot(info.key).status  # narrowed to the selected domain

    async def _state_changed(self, keys: list[str] | None = None) -> None:
        """Refresh the sidebar; rebuild the main view only if it shows one of `keys` (None: all),
        so results streaming in for other steps do not steal focus or scroll position."""
        self._refresh_sidebar()
        if keys is None or self.current not in self.available or self.current in keys:
            await self.render_current()

    def _step_index(self, key: str) -> int:
        return [i.key for i in STEP_INFO].index(key)

    def current_assessment(self) -> Assessment | None:
        return None if self.current == DASHBOARD else self.snapshot(self.current).assessment

    # ------------------------------------------------------------ probing (workers)
    def _available_keys(self) -> list[str]:
        return [k for k, exists in self.available.items() if exists]

    @work(thread=True, exclusive=True, group="audit")
    def run_audit_worker(self) -> None:
        """Every available step, concurrently; each step's result is shown as it arrives, and
        one step failing (even to import) leaves the others' results intact."""
        self._probe_steps(self._available_keys())

    @work(thread=True, group="probe")
    def reverify_worker(self, key: str) -> None:
        """Only `key` (server facts are read again too: an apply may have changed them)."""
        if self.available.get(key):
            self._probe_steps([key])

    def _probe_steps(self, keys: list[str]) -> None:
        """Runs in a worker thread, with its own asyncio loop."""
        self.call_from_thread(self._probing_started, keys)
        ctx = run_context(self.ctx)  # this run's DNS answers, shared by its steps; a re-verify gets new ones

        async def probe_all() -> None:
            server = await probe_server(ctx)
            self.call_from_thread(self._server_probed, server)
            await asyncio.gather(*(probe_one(key, server) for key in keys))

        async def probe_one(key: str, server: ServerFacts) -> None:
            try:
                step = self.step(key)
                facts, assessment = await run_step(ctx, step, server)
            except Exception as exc:  # noqa: BLE001 - shown in the step's view, never a traceback
                self.call_from_thread(self._probe_failed, [key], describe_error(exc))
                return
            self.call_from_thread(self._step_probed, key, facts, assessment)

        try:
            asyncio.run(probe_all())
        except Exception as exc:  # noqa: BLE001 - e.g. the configuration db is unreadable
            self.call_from_thread(self._probe_failed, keys, describe_error(exc))

    async def _probing_started(self, keys: list[str]) -> None:
        if not self.probing:
            gc.freeze()  # see _probing_ended
        self.probing.update(keys)
        await self._state_changed(keys)

    def _probing_ended(self) -> None:
        """While probes run, the objects that existed when they started (the app, its widgets,
        the previous results) are left out of the cycle collector's full passes (gc.freeze),
        which otherwise scan all of them and stop every thread for 40-120 ms mid-audit. Once
        no probe runs they are handed back, so nothing is kept alive for good."""
        if not self.probing:
            gc.unfreeze()

    def on_unmount(self) -> None:
        gc.unfreeze()

    async def _probe_failed(self, keys: list[str], message: str) -> None:
        for key in keys:
            self.probing.discard(key)
            self.errors[key] = message
        self._probing_ended()
        self.notify(message, title="Probe failed", severity="error")
        await self._state_changed(keys)

    def _server_probed(self, server: ServerFacts) -> None:
        self.server = server
        self._update_domains(server.domains)

    async def _step_probed(self, key: str, facts: Any, assessment: Assessment) -> None:
        self.probing.discard(key)
        self._probing_ended()
        self.errors.pop(key, None)
        self.facts[key] = facts
        self.assessments[key] = assessment
        await self._state_changed([key])

    def _update_domains(self, domains: tuple[str, ...]) -> None:
        select = self.query_one("#domain", Select)
        wanted = [("All domains", ALL_DOMAINS)] + [(d, d) for d in domains]
        if getattr(self, "_domain_options", None) == wanted:
            return
        self._domain_options = wanted
        keep = self.domain if self.domain in domains else ALL_DOMAINS
        with select.prevent(Select.Changed):
            select.set_options(wanted)
            select.value = keep
        self.domain = None if keep == ALL_DOMAINS else keep

    # ------------------------------------------------------------ navigation
    @on(ListView.Highlighted, "#steps")
    async def _step_highlighted(self, event: ListView.Highlighted) -> None:
        if event.item is None:
            return
        if self.current == DASHBOARD and not event.list_view.has_focus:
            return  # the sidebar's own index settling (mount): the dashboard stays
        key = event.item.id.removeprefix("step-") if event.item.id else self.current
        if key != self.current:
            self.current = key
            await self.render_current()

    @on(ListView.Selected, "#steps")
    async def _step_selected(self, event: ListView.Selected) -> None:
        key = event.item.id.removeprefix("step-") if event.item.id else self.current
        if key != self.current:  # e.g. from the dashboard: the highlight did not move
            self.current = key
            await self.render_current()
        self._focus_main()

    def _focus_main(self) -> None:
        view = self.query_one("#main", VerticalScroll)
        focusable = [w for w in view.query("*") if w.focusable and not isinstance(w, Input)]
        (focusable[0] if focusable else view).focus()

    @on(Select.Changed, "#domain")
    async def _domain_changed(self, event: Select.Changed) -> None:
        value = event.value
        self.domain = None if value in (ALL_DOMAINS, Select.NULL) else str(value)
        await self._state_changed()

    def action_go_step(self, key: str) -> None:
        sidebar = self.query_one(StepSidebar)
        index = self._step_index(key)
        if key != self.current and (sidebar.index == index or self.current == DASHBOARD):
            # no Highlighted event will come (or it is ignored while the dashboard is shown)
            self.current = key
            self.call_later(self.render_current)
        sidebar.index = index

    def action_next_step(self) -> None:
        sidebar = self.query_one(StepSidebar)
        sidebar.index = min((sidebar.index or 0) + 1, len(STEP_INFO) - 1)

    def action_previous_step(self) -> None:
        sidebar = self.query_one(StepSidebar)
        sidebar.index = max((sidebar.index or 0) - 1, 0)

    def action_leave_field(self) -> None:
        """Esc out of a text field (e.g. DKIM's selector), so letters and digits are keys again."""
        if isinstance(self.focused, Input | TextArea):
            self.query_one(StepSidebar).focus()

    def action_choose_domain(self) -> None:
        self.query_one("#domain", Select).focus()

    async def action_go_dashboard(self) -> None:
        self.current = DASHBOARD
        self.query_one(StepSidebar).index = None  # no step looks selected on the home screen
        await self.render_current()

    @on(ListView.Selected, "#home")
    async def _home_selected(self) -> None:
        await self.action_go_dashboard()
        self._focus_main()

    @on(Dashboard.OpenStep)
    async def _open_step(self, message: Dashboard.OpenStep) -> None:
        """A checklist cell: that step, with that domain selected."""
        if (message.domain or None) != self.domain:
            with self.query_one("#domain", Select).prevent(Select.Changed):
                self.select_domain(message.domain)
            self.domain = message.domain
            self._refresh_sidebar()
        self.current = message.step
        with self.query_one(StepSidebar).prevent(ListView.Highlighted):
            self.query_one(StepSidebar).index = self._step_index(message.step)
        await self.render_current()
        self._focus_main()

    def select_domain(self, domain: str | None) -> None:
        self.query_one("#domain", Select).value = domain or ALL_DOMAINS

    # ------------------------------------------------------------ re-verify
    def action_reverify(self) -> None:
        if self.current == DASHBOARD:
            self.action_rerun_audit()
            return
        self.reverify(self.current)

    def reverify(self, key: str) -> None:
        if not self.available.get(key):
            self.notify(f"{self.info(key).title} is not yet available.", severity="warning")
            return
        self.reverify_worker(key)

    def action_rerun_audit(self) -> None:
        self.run_audit_worker()

    @on(ReverifyRequested)
    def _reverify_requested(self, message: ReverifyRequested) -> None:
        self.reverify(message.step)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in STEP_ONLY_ACTIONS and self.current == DASHBOARD)

    # ------------------------------------------------------------ apply
    def action_apply(self) -> None:
        if self.current == DASHBOARD:
            self.notify("Open a step (1–7, or Enter on a cell) to see and apply its changes.")
            return
        self.request_apply(self.current)

    @on(ApplyRequested)
    def _apply_requested(self, message: ApplyRequested) -> None:
        self.request_apply(message.step)

    def request_apply(self, key: str) -> None:
        assessment = self.snapshot(key).assessment
        if assessment is None or not assessment.actions:
            self.notify("No server changes are proposed here.")
            return
        self.preview_worker(key, assessment.actions)

    @work(thread=True, exclusive=True, group="apply")
    def preview_worker(self, key: str, actions: tuple[Action, ...]) -> None:
        try:
            items = preview(self.ctx.host, actions)
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.notify, describe_error(exc), title="Preview failed", severity="error")
            return
        self.call_from_thread(self._confirm, key, actions, items)

    def _confirm(self, key: str, actions: tuple[Action, ...], items: list[PreviewItem]) -> None:
        def answered(confirmed: bool | None) -> None:
            if confirmed:
                progress = ApplyProgress(self.info(key).title, len(actions))
                self.push_screen(progress)  # which action, and signal-event's output as it comes
                self.apply_worker(key, actions, progress)
            else:
                self.notify("Nothing was changed.")

        self.push_screen(PreviewApply(self.info(key).title, items, dry_run=self.ctx.dry_run), answered)

    @work(thread=True, exclusive=True, group="apply")
    def apply_worker(self, key: str, actions: tuple[Action, ...], progress: ApplyProgress | None = None) -> None:
        try:
            report = apply_actions(
                self.ctx.host, actions, dry_run=self.ctx.dry_run,
                on_progress=progress.on_progress if progress else None,
                on_output=progress.on_output if progress else None,
            )
        except Exception as exc:  # noqa: BLE001
            if progress:
                failed = f"failed: {describe_error(exc)}"
                self.call_from_thread(lambda: progress.finish(failed, keep_open=True))
            self.call_from_thread(self.notify, describe_error(exc), title="Apply failed", severity="error")
            return
        if progress:
            summary = "done" if report.ok else "stopped at a failure" if report.outcomes else "nothing was changed"
            self.call_from_thread(lambda: progress.finish(summary, keep_open=not report.ok))
        self.call_from_thread(self._applied, key, report)

    def _applied(self, key: str, report: ApplyReport) -> None:
        if report.refused is not None:
            self.notify(f"Nothing was changed: {report.refused}", title="Apply refused",
                        severity="error", timeout=15)
            return
        if report.dry_run:
            self.notify("Dry run: nothing was changed.", title="Dry run")
            return
        if report.ok:
            self.notify(f"Applied {len(report.outcomes)} change(s); re-verifying.", title="Applied")
        else:
            failed = next(o for o in report.outcomes if not o.ok)
            done = sum(1 for o in report.outcomes if o.ok)
            self.notify(
                f"{failed.action.summary()} failed: {failed.error}. {done} change(s) before it were applied.",
                title="Apply stopped",
                severity="error",
                timeout=15,
            )
        self.reverify(key)
        if key != "verify" and self.available.get("verify"):
            self.reverify("verify")  # its log evidence is judged against the configuration just changed

    def action_send_test(self) -> None:
        """`t` on Test & logs while the focus is outside the view (e.g. the step list)."""
        for view in self.query("#step-view"):
            start = getattr(view, "start_live_test", None)
            if start is not None:
                start()

    def action_undo(self) -> None:
        """The Undo screen (docs/safe-apply.md); re-audit when it undid something."""
        self.push_screen(UndoScreen(self.ctx.host, dry_run=self.ctx.dry_run),
                         lambda undid: self.action_rerun_audit() if undid else None)

    # ------------------------------------------------------------ records: copy, save, publish
    def current_records(self) -> tuple[Record, ...]:
        assessment = self.current_assessment()
        return assessment.records if assessment is not None else ()

    def action_copy_record(self, index: int = 0, form: str = "value") -> None:
        records = self.current_records()
        if not records:
            self.notify("No DNS record to copy here.")
            return
        self.copy_record(records[min(index, len(records) - 1)], form)

    @on(CopyRequested)
    def _copy_requested(self, message: CopyRequested) -> None:
        self.copy_record(message.record, message.form)

    def copy_record(self, record: Record, form: str) -> None:
        text = (
            clipboard.record_chunked_text(record) if form == "chunks" else clipboard.record_value_text(record)
        )
        self.copy_worker(text)

    @work(thread=True, group="copy")
    def copy_worker(self, text: str) -> None:
        try:
            outcome = clipboard.copy_text(
                text, lambda t: self.call_from_thread(self.copy_to_clipboard, t), env=self.env
            )
        except clipboard.PrivateMaterialRefused as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.call_from_thread(self.notify, outcome.describe(), title="Copy", timeout=8)

    def action_save_records(self) -> None:
        records = self.current_records()
        if not records:
            self.notify("No DNS records to save here.")
            return
        self.save_worker(records, f"{self.current}-{self.domain or 'all-domains'}")

    @on(SaveRequested)
    def _save_requested(self, message: SaveRequested) -> None:
        self.save_worker(message.records, message.stem)

    @work(thread=True, group="save")
    def save_worker(self, records: tuple[Record, ...], stem: str) -> None:
        directory = self.records_dir or clipboard.records_directory()
        try:
            path = clipboard.save_records(records, directory, stem)
        except (OSError, clipboard.PrivateMaterialRefused) as exc:
            self.call_from_thread(self.notify, describe_error(exc), title="Save failed", severity="error")
            return
        self.last_saved = path
        self.call_from_thread(self.notify, f"Saved to {path}", title="Saved", timeout=10)

    @on(PublishRequested)
    def _publish_requested(self, message: PublishRequested) -> None:
        self.publish(message.record)

    def publish(self, record: Record) -> None:
        if self.publisher is None:
            self.notify("Publish the record at your DNS provider, then re-verify.")
            return
        self.publish_worker(self.current, record)

    @work(thread=True, group="publish")
    def publish_worker(self, key: str, record: Record) -> None:
        assert self.publisher is not None
        try:
            self.publisher(record)
        except Exception as exc:  # noqa: BLE001
            self.call_from_thread(self.notify, describe_error(exc), title="Publish failed", severity="error")
            return
        self.call_from_thread(self.notify, f"Published {record.rtype} at {record.name} in the demo DNS; re-verifying.")
        self.call_from_thread(self.reverify, key)

    # ------------------------------------------------------------ command palette
    def palette_commands(self) -> list[PaletteCommand]:
        out: list[PaletteCommand] = [PaletteCommand("Go to the dashboard", "the Summary Checklist (h)",
                                                    self.action_go_dashboard)]
        for n, info in enumerate(STEP_INFO, 1):
            out.append(PaletteCommand(f"Go to step {n}: {info.title}", f"guide {', '.join(info.parts)}",
                                      lambda k=info.key: self.action_go_step(k)))
        out.append(PaletteCommand("Re-verify this step", "probe the server and DNS again (r)", self.action_reverify))
        out.append(PaletteCommand("Re-run the whole audit", "probe every step again", self.action_rerun_audit))
        if self.current != DASHBOARD:
            out.append(PaletteCommand("Apply proposed server changes", "after confirmation (a)", self.action_apply))
        out.append(PaletteCommand("Undo a previous apply", "restore what a recorded run changed (u)", self.action_undo))
        for index, record in enumerate(self.current_records()):
            out.append(PaletteCommand(f"Copy record: {record.name} {record.rtype}", "value as one string",
                                      lambda i=index: self.action_copy_record(i, "value")))
            if record.rtype == "TXT" and len(record.chunks()) > 1:
                out.append(PaletteCommand(f"Copy record 255-chunked: {record.name} {record.rtype}",
                                          '"…" "…" strings', lambda i=index: self.action_copy_record(i, "chunks")))
            if self.publisher is not None:
                out.append(PaletteCommand(f"Publish in demo DNS: {record.name} {record.rtype}",
                                          "then re-verify", lambda r=record: self.publish(r)))
        if self.current != DASHBOARD:
            out.append(PaletteCommand("Save records to file", "under ./smewizard-records (s)", self.action_save_records))
        out.append(PaletteCommand("Show all domains", "domain selector", lambda: self.select_domain(None)))
        for domain in self.server.domains if self.server else ():
            out.append(PaletteCommand(f"Show domain: {domain}", "domain selector",
                                      lambda d=domain: self.select_domain(d)))
        out.append(PaletteCommand("Quit smewizard", "(q)", self.exit))
        return out
