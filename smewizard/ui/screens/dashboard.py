"""The home screen: the guide's Summary Checklist as a live table (smewizard/checklist.py).

One row per checklist item, one column per hosted domain plus a "server" column for the
server-wide items. Each cell shows pass/warn/fail/unknown/n.a. from the steps' findings; Enter
(or a click) on a cell posts `Dashboard.OpenStep(step, domain)`, and the app shows that step
with that domain selected. The widget is updated in place when results arrive (no remount), so
auditing 50 domains keeps the screen responsive.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from smewizard.checklist import SERVER, Cell, Checklist

KEY = "dashboard"
TITLE = "Dashboard"
CELL_TEXT = {
    Cell.PASS: "✔ pass",
    Cell.WARN: "▲ warn",
    Cell.FAIL: "✘ fail",
    Cell.UNKNOWN: "? unknown",
    Cell.NA: "· n.a.",
}
PROBING_TEXT = "… probing"


@dataclass(frozen=True)
class DashboardSnapshot:
    """Everything the dashboard shows; built by the app from its results."""

    checklist: Checklist
    probing: frozenset[str] = frozenset()  # step keys being probed now
    started: bool = True  # False before the first audit produced server facts


class ChecklistTable(DataTable):
    """A DataTable whose cell colours come from the stylesheet (dashboard.tcss)."""

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "checklist--pass", "checklist--warn", "checklist--fail", "checklist--unknown",
        "checklist--na", "checklist--probing",
    }


class Dashboard(Vertical):
    class OpenStep(Message):
        """The admin chose a cell: show `step` for `domain` (None = all domains)."""

        def __init__(self, step: str, domain: str | None) -> None:
            super().__init__()
            self.step = step
            self.domain = domain

    def __init__(self, snapshot: DashboardSnapshot, **kwargs) -> None:
        super().__init__(**kwargs)
        self.snapshot = snapshot
        self.add_class("dashboard")
        self._columns: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(Content("Summary checklist (guide): Enter on a cell opens its step for that domain"),
                     classes="step-title", id="dashboard-title")
        yield Static("", id="dashboard-totals")
        yield Static("", id="dashboard-item")
        table = ChecklistTable(id="checklist", cursor_type="cell", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        self.update_snapshot(self.snapshot)
        self.query_one(ChecklistTable).focus()

    # ------------------------------------------------------------ rendering
    def update_snapshot(self, snapshot: DashboardSnapshot) -> None:
        """Show `snapshot`: cells are updated in place; columns are rebuilt only when the set of
        domains changed."""
        self.snapshot = snapshot
        table = self.query_one(ChecklistTable)
        columns = (*snapshot.checklist.domains, SERVER)
        if columns != self._columns:
            self._rebuild(table, columns)
        else:
            for item, cells in snapshot.checklist.rows:
                for value in cells:
                    table.update_cell(item.key, value.domain or SERVER, self._cell_text(item.step, value.cell))
        self.query_one("#dashboard-totals", Static).update(Content(self._totals()))

    def _rebuild(self, table: ChecklistTable, columns: tuple[str, ...]) -> None:
        table.clear(columns=True)
        table.add_column("Checklist item", key="item")
        table.add_column("Guide", key="part")
        for column in columns:
            table.add_column(column, key=column)
        for item, cells in self.snapshot.checklist.rows:
            by_column = {(c.domain or SERVER): self._cell_text(item.step, c.cell) for c in cells}
            label = Text(item.short)  # Text: the guide's "[domain]" is not markup
            table.add_row(label, item.part, *(by_column.get(col, "") for col in columns), key=item.key)
        table.fixed_columns = 1
        self._columns = columns

    def _cell_text(self, step: str, cell: Cell) -> Text:
        if step in self.snapshot.probing:
            return Text(PROBING_TEXT, style=self._style("probing"))
        name = "na" if cell is Cell.NA else str(cell)
        return Text(CELL_TEXT[cell], style=self._style(name))

    def _style(self, name: str):
        try:
            return self.query_one(ChecklistTable).get_component_rich_style(f"checklist--{name}")
        except Exception:  # noqa: BLE001 - before the stylesheet applies: unstyled text
            return ""

    def _totals(self) -> str:
        if not self.snapshot.started:
            return "Probing the server…"
        counts = Counter(c.cell for _, cells in self.snapshot.checklist.rows for c in cells)
        parts = [f"{counts[c]} {c}" for c in (Cell.PASS, Cell.WARN, Cell.FAIL, Cell.UNKNOWN, Cell.NA) if counts[c]]
        probing = f" · probing {len(self.snapshot.probing)} step(s)" if self.snapshot.probing else ""
        return f"{len(self.snapshot.checklist.domains)} domain(s): " + ", ".join(parts) + probing

    @on(DataTable.CellHighlighted, "#checklist")
    def _cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        """The guide's full wording of the row under the cursor, and which step decides it."""
        item = next((i for i, _ in self.snapshot.checklist.rows if i.key == event.cell_key.row_key.value), None)
        if item is not None:
            codes = ", ".join(item.codes)
            self.query_one("#dashboard-item", Static).update(
                Content(f"{item.title} (guide {item.part}; step {item.step}: {codes})"))

    # ------------------------------------------------------------ navigation
    @on(DataTable.CellSelected, "#checklist")
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        row_key, column_key = event.cell_key.row_key.value, event.cell_key.column_key.value
        item = next((i for i, _ in self.snapshot.checklist.rows if i.key == row_key), None)
        if item is None:
            return
        domain = None if column_key in ("item", "part", SERVER) or not item.per_domain else column_key
        self.post_message(self.OpenStep(item.step, domain))
