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
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

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
PAD = 2  # a DataTable cell's padding, both sides
SCROLLBAR = 2  # the table's vertical scrollbar
SERVER_WIDTH = 9 + PAD  # "server" header, "? unknown" cells
CELL_WIDTH = 9  # "? unknown"


@dataclass(frozen=True)
class DashboardSnapshot:
    """Everything the dashboard shows; built by the app from its results."""

    checklist: Checklist
    probing: frozenset[str] = frozenset()  # step keys being probed now
    started: bool = True  # False before the first audit produced server facts


class ChecklistTable(DataTable):
    """A DataTable whose cell colours come from the stylesheet (dashboard.tcss), and whose
    cell updates repaint only the rows they touch."""

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "checklist--pass", "checklist--warn", "checklist--fail", "checklist--unknown",
        "checklist--na", "checklist--probing",
    }

    def update_cells(self, changes: list[tuple[str, str, Text]]) -> None:
        """Set (row key, column key, value) cells. DataTable.update_cell bumps one counter that
        is part of every render cache key, so the next repaint renders every visible cell
        again (~300 Rich renders, 20+ ms of event loop with 50 domains) for each step result.
        Here only the changed cells' and rows' cached renders are dropped, each cache scanned
        once per batch. Falls back to the stock method if the Textual internals it relies on
        are not there."""
        caches = [getattr(self, name, None) for name in _RENDER_CACHES]
        if any(cache is None for cache in caches) or not hasattr(self, "_data"):
            for row, column, value in changes:
                self.update_cell(row, column, value)
            return
        cells: set[tuple[RowKey, ColumnKey]] = set()
        for row, column, value in changes:
            row_key, column_key = RowKey(row), ColumnKey(column)
            if row_key not in self._row_locations or column_key not in self._column_locations:
                raise CellDoesNotExist(f"No cell exists for row_key={row!r}, column_key={column!r}.")
            self._data[row_key][column_key] = value
            cells.add((row_key, column_key))
        if not cells:
            return
        rows = {row_key for row_key, _ in cells}
        indexes = {self._row_locations.get(row_key) for row_key in rows}
        cell_cache, row_cache, renderables, lines = caches
        _discard(cell_cache, lambda key: (key[0], key[1]) in cells)
        _discard(row_cache, lambda key: key[0] in rows)
        _discard(renderables, lambda key: key[1] in indexes)
        lines.clear()  # keyed by screen line; cheap to rebuild from the cached rows
        self.refresh()


#: DataTable's render caches (Textual 8): cell (row_key, column_key, …), row (row_key, …),
#: row renderables (update_count, row_index), line (y, …).
_RENDER_CACHES = ("_cell_render_cache", "_row_render_cache", "_row_renderable_cache", "_line_cache")


def _discard(cache, stale) -> None:
    for key in [key for key in cache.keys() if stale(key)]:
        cache.discard(key)


class Dashboard(Vertical):
    """Domains beyond what fits the width are on further pages ([ and ]): a DataTable repaints
    every column of a row on each update, so showing only the columns that fit keeps every
    repaint short while 50 domains are audited."""

    BINDINGS = [
        Binding("]", "page(1)", "More domains"),
        Binding("[", "page(-1)", "Previous domains", show=False),
    ]
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
        self._guide = True  # the Guide column; dropped when the width is short (the cursor line says it)
        self._shown: dict[tuple[str, str], str] = {}  # (row, column) -> what the cell shows
        self._styles: dict[str, object] = {}
        self.page = 0

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
        """Show `snapshot`: only cells whose value changed are updated (a step's result touches
        its own rows); columns are rebuilt only when the set of domains changed."""
        self.snapshot = snapshot
        table = self.query_one(ChecklistTable)
        self._styles = {name: table.get_component_rich_style(f"checklist--{name}")
                        for name in ("pass", "warn", "fail", "unknown", "na", "probing")}
        columns = (*self._page_domains(), SERVER)
        self.refresh_bindings()  # "] More domains" comes and goes with the pages
        with self.app.batch_update():
            if columns != self._columns or self._guide != self.show_guide():
                self._rebuild(table, columns)
            else:
                changes: list[tuple[str, str, Text]] = []
                for item, cells in snapshot.checklist.rows:
                    for value in cells:
                        where = (item.key, value.domain or SERVER)
                        if where[1] not in columns:
                            continue
                        shown = self._shown_value(item.step, value.cell)
                        if self._shown.get(where) != shown:
                            self._shown[where] = shown
                            changes.append((*where, self._cell_text(shown)))
                table.update_cells(changes)
            self.query_one("#dashboard-totals", Static).update(Content(self._totals()))

    def _rebuild(self, table: ChecklistTable, columns: tuple[str, ...]) -> None:
        table.clear(columns=True)
        self._shown = {}
        self._guide = self.show_guide()
        table.add_column("Checklist item", key="item")
        if self._guide:
            table.add_column("Guide", key="part")
        room = self._width() - self._fixed_width(self._guide) - PAD
        for column in columns:
            table.add_column(self._header(column, room), key=column)
        wanted = set(columns)
        for item, cells in self.snapshot.checklist.rows:
            by_column = {}
            for value in cells:
                if (value.domain or SERVER) not in wanted:
                    continue
                shown = self._shown[(item.key, value.domain or SERVER)] = self._shown_value(item.step, value.cell)
                by_column[value.domain or SERVER] = self._cell_text(shown)
            label = Text(item.short)  # Text: the guide's "[domain]" is not markup
            guide = (item.part,) if self._guide else ()
            table.add_row(label, *guide, *(by_column.get(col, "") for col in columns), key=item.key)
        table.fixed_columns = 1
        self._columns = columns

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def _fixed_width(self, guide: bool) -> int:
        """Columns always shown: item (widest short label), Guide (if shown), server, scrollbar."""
        rows = self.snapshot.checklist.rows
        item = max((len(i.short) for i, _ in rows), default=0)
        part = max((len(i.part) for i, _ in rows), default=0)
        return max(item, len("Checklist item")) + PAD + (max(part, len("Guide")) + PAD if guide else 0) \
            + SERVER_WIDTH + SCROLLBAR

    def show_guide(self) -> bool:
        """Keep the Guide column only while one domain column still fits beside it."""
        first = min((len(d) for d in self.snapshot.checklist.domains[:1]), default=0)
        return self._width() - self._fixed_width(True) >= max(first, CELL_WIDTH) + PAD

    @staticmethod
    def _header(domain: str, room: int) -> Text:
        """A domain too long for the room left is cut with an ellipsis (the cursor line names it)."""
        if domain == SERVER or len(domain) <= max(room, CELL_WIDTH):
            return Text(domain)
        return Text(domain[: max(room, CELL_WIDTH) - 1] + "…")

    def pages(self) -> list[tuple[int, int]]:
        """Domains split into (start, end) pages that fit the width, in order."""
        width = self._width() - self._fixed_width(self.show_guide())
        domains = self.snapshot.checklist.domains
        out, start, used = [], 0, 0
        for index, domain in enumerate(domains):
            need = max(len(domain), CELL_WIDTH) + 2
            if used + need > width and index > start:
                out.append((start, index))
                start, used = index, 0
            used += need
        out.append((start, len(domains)))
        return out

    def _page_domains(self) -> tuple[str, ...]:
        pages = self.pages()
        self.page = min(max(self.page, 0), len(pages) - 1)
        start, end = pages[self.page]
        return self.snapshot.checklist.domains[start:end]

    def action_page(self, step: int) -> None:
        self.page += step
        self.update_snapshot(self.snapshot)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """"] More domains" only when some domains are on another page."""
        return action != "page" or len(self.pages()) > 1

    def on_resize(self) -> None:
        if self._columns and (len(self._columns) - 1 != len(self._page_domains()) or self._guide != self.show_guide()):
            self.update_snapshot(self.snapshot)

    def _shown_value(self, step: str, cell: Cell) -> str:
        return "probing" if step in self.snapshot.probing else ("na" if cell is Cell.NA else str(cell))

    def _cell_text(self, shown: str) -> Text:
        text = PROBING_TEXT if shown == "probing" else CELL_TEXT[Cell.NA if shown == "na" else Cell(shown)]
        return Text(text, style=self._styles.get(shown, ""))

    def _totals(self) -> str:
        if not self.snapshot.started:
            return "Probing the server…"
        counts = Counter(c.cell for _, cells in self.snapshot.checklist.rows for c in cells)
        parts = [f"{counts[c]} {c}" for c in (Cell.PASS, Cell.WARN, Cell.FAIL, Cell.UNKNOWN, Cell.NA) if counts[c]]
        probing = f" · probing {len(self.snapshot.probing)} step(s)" if self.snapshot.probing else ""
        total, shown = len(self.snapshot.checklist.domains), len(self._columns) - 1
        paging = ""
        if shown < total:
            first = self.pages()[self.page][0] + 1
            paging = f"\nDomains {first}–{first + shown - 1} of {total} shown: ] next, [ previous"
        return f"{total} domain(s): " + ", ".join(parts) + probing + paging

    @on(DataTable.CellHighlighted, "#checklist")
    def _cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        """The guide's full wording of the row under the cursor, and which step decides it."""
        item = next((i for i, _ in self.snapshot.checklist.rows if i.key == event.cell_key.row_key.value), None)
        if item is not None:
            codes = ", ".join(item.codes)
            column = event.cell_key.column_key.value
            where = f" · {column}" if column not in ("item", "part", None) else ""
            self.query_one("#dashboard-item", Static).update(
                Content(f"{item.title}{where} (guide {item.part}; step {item.step}: {codes})"))

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
