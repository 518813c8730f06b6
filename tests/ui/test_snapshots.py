"""Snapshot tests (pytest-textual-snapshot). Deterministic: fixed scenario, no paths, no ports.

Update after an intended change with: pytest tests/ui/test_snapshots.py --snapshot-update
and look at the SVGs under tests/ui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from smewizard.ui.widgets.findings import FindingItem


def test_spf_view_for_one_domain(snap_compare, step_view_app):
    app = step_view_app("spf", domain="example.com")
    assert snap_compare(app, terminal_size=(90, 40))


def test_spf_view_all_domains_with_a_finding_expanded(snap_compare, step_view_app):
    app = step_view_app("spf")

    async def expand_first_finding(pilot) -> None:
        first = pilot.app.query(FindingItem).first()
        first.collapsed = False
        first.scroll_visible(animate=False, top=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=expand_first_finding)
