"""Confirmation before changing the server: every command, with current → new value."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from smewizard.actions.apply import PreviewItem


def preview_lines(item: PreviewItem) -> list[str]:
    flags = []
    if item.needs_root:
        flags.append("needs root: run smewizard as root")
    if not item.undoable:
        flags.append("cannot be undone")
    where = f"[{item.domain}] " if item.domain else ""
    lines = [where + item.action.summary() + (f"  ({'; '.join(flags)})" if flags else "")]
    if item.target is not None or item.current is not None:
        lines.append(f"  from: {item.current if item.current is not None else '(not set)'}")
        lines.append(f"  to:   {item.target if item.target is not None else '(unchanged)'}")
    lines.extend(f"  # {cmd}" for cmd in item.commands)
    return lines


class ConfirmApply(ModalScreen[bool]):
    """Dismisses with True to apply, False to cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "confirm", "Apply"),
    ]

    def __init__(self, step_title: str, items: Sequence[PreviewItem], *, dry_run: bool = False) -> None:
        super().__init__()
        self.step_title = step_title
        self.items = tuple(items)
        self.dry_run = dry_run

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            question = (
                "DRY RUN (--dry-run): these commands would run; nothing will be changed."
                if self.dry_run
                else "Run these commands on the server?"
            )
            yield Static(Content(f"{self.step_title}: {question}"), id="confirm-title")
            with VerticalScroll(id="confirm-commands"):
                for item in self.items:
                    yield Static(Content("\n".join(preview_lines(item))), classes="command")
            with Horizontal(classes="buttons"):
                label = "Dry run (y)" if self.dry_run else "Apply (y)"
                yield Button(label, id="confirm-apply", variant="warning")
                yield Button("Cancel (esc)", id="confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-cancel", Button).focus()

    @on(Button.Pressed, "#confirm-apply")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
