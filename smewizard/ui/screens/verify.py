"""Test & logs screen: the generic step view plus a live test and an Authentication-Results
explainer (guide Part 10).

Live test: send one message through the server's own SMTP service (127.0.0.1:25 as the SERVER
sees it, as SME's local clients submit; over --host an SSH forward reaches it), then follow the qpsmtpd log until the dkim line of that message
appears. Both run in an app-level thread worker, and their state lives in `LiveTest` on the
app, so the view being rebuilt (every probe result rebuilds it) neither stops nor forgets them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Log, Static, TextArea

from smewizard.logs import QPSMTPD_CURRENT, LogTail, stamp_text
from smewizard.mail.authresults import Expected, Explanation, UnreadableHeader, explain
from smewizard.steps.verify import SendFailed, TestWatch, send_through_server
from smewizard.ui.screens.step import Section, StepView
from smewizard.ui.status import STATUS_ICON, status_class
from smewizard.validate import InvalidValue

WATCH_SECONDS = 60.0
POLL_SECONDS = 0.5
KEEP_LINES = 300


@dataclass
class LiveTest:
    """The live test's state, kept on the app across view rebuilds."""

    running: bool = False
    status: str = "Not run yet."
    status_class: str = "-none"
    lines: list[str] = field(default_factory=list)
    sender: str = ""
    recipient: str = ""
    host: str = "127.0.0.1"
    port: str = "25"
    pasted: str = ""
    explanation: Explanation | None = None
    explain_error: str | None = None
    view: View | None = None

    def set_status(self, text: str, cls: str) -> None:
        self.status, self.status_class = text, cls
        if self.view is not None and self.view.is_mounted:
            self.view.show_status()

    def add_lines(self, lines: list[str]) -> None:
        self.lines.extend(lines)
        del self.lines[:-KEEP_LINES]
        if self.view is not None and self.view.is_mounted:
            self.view.show_lines(lines)

    def finished(self) -> None:
        self.running = False
        if self.view is not None and self.view.is_mounted:
            self.view.show_status()


def live_state(app) -> LiveTest:
    state = getattr(app, "verify_live_test", None)
    if state is None:
        state = LiveTest()
        app.verify_live_test = state
    return state


def expected_from(app) -> Expected:
    """Hosted domains, and each one's published selector from the DKIM step's facts."""
    server = getattr(app, "server", None)
    domains = tuple(server.domains) if server is not None else ()
    selectors = {}
    dkim = getattr(app, "facts", {}).get("dkim")
    for entry in getattr(dkim, "domains", ()) or ():
        published = getattr(entry, "published", None)
        if published is not None:
            selectors[entry.domain] = published.selector
    return Expected(domains, selectors)


def run_live_test(app, state: LiveTest, sender: str, recipient: str, host: str, port: int) -> None:
    """Thread worker body: tail first (only new lines count), send, then watch the log."""
    call = app.call_from_thread
    try:
        tail = LogTail(app.ctx.host, QPSMTPD_CURRENT)
    except Exception as exc:  # noqa: BLE001 - shown, never a traceback
        call(state.set_status, f"Cannot read {QPSMTPD_CURRENT}: {exc}", "-unknown")
        call(state.finished)
        return
    call(state.set_status, f"Sending from {sender} to {recipient} through {host}:{port} on the server…", "-probing")
    try:
        sent = send_through_server(app.ctx.host, sender, recipient, host, port)
    except (SendFailed, InvalidValue) as exc:
        call(state.set_status, f"Not sent: {exc}", "-fail")
        call(state.finished)
        return
    call(state.set_status, f"Sent {sent.message_id} ({sent.reply}). Watching {QPSMTPD_CURRENT}…", "-probing")
    watch = TestWatch(sent.token)
    deadline = time.monotonic() + WATCH_SECONDS
    while time.monotonic() < deadline:
        lines = tail.poll()
        if lines:
            call(state.add_lines, [f"{stamp_text(s)}  {t}" for s, t in lines])
        outcome = watch.feed(lines)
        if outcome is not None:
            if outcome.signed:
                call(state.set_status, f"✔ qpsmtpd signed the test message (PID {outcome.pid}, "
                     f"{stamp_text(outcome.when)}). Now check the received headers below.", "-pass")
            else:
                call(state.set_status, f"✘ qpsmtpd did not sign it: {outcome.line}", "-fail")
            call(state.finished)
            return
        time.sleep(POLL_SECONDS)
    call(state.set_status, f"No dkim line for {sent.message_id} within {WATCH_SECONDS:.0f} s: is this the log "
         "of the server that received it?", "-unknown")
    call(state.finished)


class View(StepView):
    """The generic Test & logs view with the live test and the header explainer added."""

    BINDINGS = [Binding("t", "send_test", "Send test"),
                Binding("escape", "leave_field", "Leave field", show=False)]

    def action_leave_field(self) -> None:
        """Esc out of a text field (to the Send button), so digits switch steps again."""
        if isinstance(self.app.focused, Input | TextArea):
            self.query_one("#send-test", Button).focus()

    def action_send_test(self) -> None:
        self.start_live_test()

    def on_mount(self) -> None:
        self.live.view = self

    @property
    def live(self) -> LiveTest:
        return live_state(self.app)

    def compose_state(self) -> ComposeResult:
        yield from super().compose_state()
        live = self.live
        if not live.sender and self.snapshot.server is not None and self.snapshot.server.domains:
            live.sender = f"admin@{self.snapshot.domain or self.snapshot.server.domains[0]}"
        yield Section("Live test: send via the server, watch its log", self._live_test(live), id="live-test")
        yield Section("Paste an Authentication-Results header", self._explainer(live), id="explainer")

    def _live_test(self, live: LiveTest) -> Vertical:
        return Vertical(
            Horizontal(
                Input(live.sender, placeholder="sender@hosted-domain", id="test-sender", compact=True),
                Input(live.recipient, placeholder="recipient address",
                      id="test-recipient", compact=True),
                classes="test-row",
            ),
            Horizontal(
                Input(live.host, placeholder="SMTP IP on the server", id="test-host", compact=True),
                Input(live.port, placeholder="port", id="test-port", type="integer", compact=True),
                Button("Send test (t)", id="send-test", compact=True, variant="primary", disabled=live.running),
                classes="test-row",
            ),
            Static(Content(live.status), id="test-status", classes=f"test-status {live.status_class}"),
            Log(id="test-log", max_lines=KEEP_LINES, classes="test-log"),
            classes="live-test",
        )

    def _explainer(self, live: LiveTest) -> Vertical:
        return Vertical(
            TextArea(live.pasted, id="ar-text", classes="ar-text", soft_wrap=True),
            Horizontal(Button("Explain", id="explain", compact=True), classes="test-row"),
            Vertical(*self._explanation_rows(live), id="ar-result"),
            classes="explainer",
        )

    def _explanation_rows(self, live: LiveTest) -> list[Static]:
        if live.explain_error:
            return [Static(Content(live.explain_error), classes="ar-row -fail")]
        out = live.explanation
        if out is None:
            return [Static("Paste the header from the received message's source, then Explain.", classes="ar-row")]
        rows = [Static(Content(f"Checked by {out.authserv_id}; From domain: {out.from_domain or 'not given'}"),
                       classes="ar-row")]
        for result in out.results:
            rows.append(Static(Content(f"{STATUS_ICON[result.status]} {result.method}={result.result}: {result.summary}"),
                               classes=f"ar-row ar-result {status_class(result.status)}"))
            rows.extend(Static(Content(f"    {d}"), classes="ar-row ar-detail") for d in result.details)
        return rows

    # ------------------------------------------------------------ updates from the worker
    def on_show(self) -> None:
        log = self.query("#test-log")
        if log:
            log.first(Log).write_lines(self.live.lines)

    def show_status(self) -> None:
        live = self.live
        status = self.query_one("#test-status", Static)
        status.update(Content(live.status))
        status.set_classes(f"test-status {live.status_class}")
        self.query_one("#send-test", Button).disabled = live.running

    def show_lines(self, lines: list[str]) -> None:
        self.query_one("#test-log", Log).write_lines(lines)

    # ------------------------------------------------------------ requests
    @on(Input.Changed)
    def _remember(self, event: Input.Changed) -> None:
        field_name = {"test-sender": "sender", "test-recipient": "recipient", "test-host": "host",
                      "test-port": "port"}.get(event.input.id or "")
        if field_name:
            setattr(self.live, field_name, event.value)

    @on(Button.Pressed, "#send-test")
    def _send(self, event: Button.Pressed) -> None:
        event.stop()
        self.start_live_test()

    def start_live_test(self) -> None:
        live = self.live
        if live.running:
            return
        try:
            port = int(live.port or "25")
        except ValueError:
            live.set_status(f"Port {live.port!r} is not a number.", "-fail")
            return
        if not live.recipient.strip():
            self.ask_for_recipient()
            return
        live.running = True
        live.lines.clear()
        self.query_one("#test-log", Log).clear()
        self.app.run_worker(
            lambda: run_live_test(self.app, live, live.sender, live.recipient, live.host, port),
            thread=True, exclusive=True, group="verify-live-test", name="live test",
        )
        self.show_status()

    def ask_for_recipient(self) -> None:
        """`t` with no recipient: say what is missing where it is seen even when the live-test
        section is scrolled out of view, and put the cursor in the field to fill."""
        needed = ("Enter a recipient first: a mail-tester.com address or any mailbox you can read, then press "
                  "Enter (Esc leaves the field).")
        self.live.set_status(needed, "-warn")
        self.app.notify(needed, title="Send test", severity="warning")
        recipient = self.query_one("#test-recipient", Input)
        recipient.focus()
        recipient.scroll_visible()

    @on(Input.Submitted, "#test-recipient")
    def _recipient_entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.start_live_test()

    @on(Button.Pressed, "#explain")
    def _explain(self, event: Button.Pressed) -> None:
        event.stop()
        live = self.live
        live.pasted = self.query_one("#ar-text", TextArea).text
        try:
            live.explanation, live.explain_error = explain(live.pasted, expected_from(self.app)), None
        except UnreadableHeader as exc:
            live.explanation, live.explain_error = None, str(exc)
        result = self.query_one("#ar-result", Vertical)
        result.remove_children()
        result.mount_all(self._explanation_rows(live))
