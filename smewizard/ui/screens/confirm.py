"""Confirmation before changing the server: every command, with current → new value.

The command list scrolls inside the dialog (PageUp/PageDown, ↑/↓, Home/End work while the
buttons keep the focus) and a line under it says how many commands are above or below, so the
Apply/Cancel buttons stay on screen at 80×24 and nothing is hidden without a hint."""

from __future__ import annotations

import re
from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
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


# leading indent plus a list number ("12. ") or a command mark ("# ")
_LEAD = re.compile(r"^( *)(\d+\. |# )?")
_MIN_TEXT_WIDTH = 20  # narrower than this, a hanging indent costs more than it helps


def hanging_wrap(line: str, width: int) -> list[str]:
    """`line` wrapped to `width` cells, continuations indented under its text (past a number
    or a `# ` mark, else two more than the line), so a wrapped command reads as one."""
    spaces, mark = _LEAD.match(line).groups()
    indent = len(spaces) + (len(mark) if mark else 2)
    head = len(spaces) + len(mark or "")
    if width - indent < _MIN_TEXT_WIDTH:
        return [c.plain for c in Content(line).wrap(max(width, 1))]
    first, *rest = Content(line[head:]).wrap(width - indent) or [Content("")]
    return [line[:head] + first.plain, *(" " * indent + c.plain for c in rest)]


class CommandLines(Static):
    """One change in the confirmation: its lines, wrapped with a hanging indent."""

    def __init__(self, lines: Sequence[str], **kwargs) -> None:
        self.lines = tuple(lines)
        super().__init__(Content("\n".join(self.lines)), **kwargs)

    def _wrapped(self, width: int) -> list[str]:
        return [part for line in self.lines for part in hanging_wrap(line, width)]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._wrapped(width)) if width > 0 else len(self.lines)

    def render(self) -> Content:
        width = self.size.width
        return Content("\n".join(self._wrapped(width) if width > 0 else self.lines))


def more_hint(above: int, below: int) -> str:
    """What the line under the command list says while the list is taller than the dialog."""
    parts = []
    if above:
        parts.append(f"▲ {above} above (PgUp/↑)")
    if below:
        parts.append(f"▼ {below} more {'command' if below == 1 else 'commands'} below (PgDn/↓)")
    return " · ".join(parts) if parts else "End of the list (PgUp/↑ to go back)"


class ConfirmApply(ModalScreen[bool]):
    """Dismisses with True to apply, False to cancel."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "confirm", "Apply"),
        Binding("pagedown", "scroll_commands('page_down')", "Scroll", show=False),
        Binding("pageup", "scroll_commands('page_up')", "Scroll", show=False),
        Binding("down", "scroll_commands('down')", "Scroll", show=False),
        Binding("up", "scroll_commands('up')", "Scroll", show=False),
        Binding("home", "scroll_commands('home')", "Scroll", show=False),
        Binding("end", "scroll_commands('end')", "Scroll", show=False),
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
                    yield CommandLines(preview_lines(item), classes="command")
            yield Static(id="confirm-more")
            with Horizontal(classes="buttons"):
                label = "Dry run (y)" if self.dry_run else "Apply (y)"
                yield Button(label, id="confirm-apply", variant="warning")
                yield Button("Cancel (esc)", id="confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-cancel", Button).focus()
        commands = self.query_one("#confirm-commands", VerticalScroll)
        self.watch(commands, "scroll_y", self._update_more_hint, init=False)
        self.watch(commands, "virtual_size", self._update_more_hint, init=False)
        self.call_after_refresh(self._fit_to_screen)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_to_screen)

    def _fit_to_screen(self) -> None:
        """Give the command list the height it needs: all of it when the dialog then still fits
        the screen (class -fits), else the whole screen height with the list scrolling (-fills),
        never a half-empty dialog that scrolls. The wrapped height of the commands does not
        depend on that choice, so measuring it in either state gives the same answer."""
        dialog = self.query_one("#confirm-dialog", Vertical)
        commands = self.query_one("#confirm-commands", VerticalScroll)
        hint = self.query_one("#confirm-more", Static)
        needed = max((w.virtual_region_with_margin.bottom for w in commands.children), default=0)
        hint_rows = hint.outer_size.height + hint.styles.margin.top if hint.display else 0
        around = dialog.outer_size.height - commands.outer_size.height - hint_rows
        fits = around + needed <= self.size.height
        dialog.set_class(fits, "-fits")
        dialog.set_class(not fits, "-fills")
        self.call_after_refresh(self._update_more_hint)

    def action_scroll_commands(self, how: str) -> None:
        commands = self.query_one("#confirm-commands", VerticalScroll)
        getattr(commands, f"scroll_{how}")(animate=False)

    def _update_more_hint(self) -> None:
        """Count the commands wholly or partly out of view above and below the list."""
        commands = self.query_one("#confirm-commands", VerticalScroll)
        hint = self.query_one("#confirm-more", Static)
        hint.display = commands.max_scroll_y > 0
        if not hint.display:
            return
        top = round(commands.scroll_y)
        bottom = top + commands.scrollable_content_region.height
        regions = [w.virtual_region for w in commands.query(".command")]
        above = sum(1 for r in regions if r.y < top)
        below = sum(1 for r in regions if r.bottom > bottom)
        hint.update(more_hint(above, below))

    @on(Button.Pressed, "#confirm-apply")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
