"""Findings grouped by domain: one collapsible line each, explanation and guide Part inside."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from smewizard.model import Finding, worst
from smewizard.ui.status import STATUS_ICON, status_class

SERVER_WIDE = "Server-wide"


def group_by_domain(findings: Iterable[Finding]) -> list[tuple[str | None, list[Finding]]]:
    """Server-wide findings first, then each domain in first-seen order; worst first inside."""
    groups: dict[str | None, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.domain, []).append(finding)
    ordered = sorted(groups.items(), key=lambda item: item[0] is not None)
    return [(d, sorted(fs, key=lambda f: -f.status.severity)) for d, fs in ordered]


class FindingItem(Collapsible):
    """One finding: "✘ SPF002  message" that expands to the explanation."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        title = Content(f"{STATUS_ICON[finding.status]} {finding.code}  {finding.message}")
        details = []
        if finding.explanation:
            details.append(Static(Content(finding.explanation), classes="explanation"))
        if finding.part:
            details.append(Static(Content(f"See guide {finding.part}."), classes="guide-part"))
        super().__init__(
            *details,
            title=title,  # type: ignore[arg-type]  # Content keeps brackets literal
            collapsed=True,
            classes=f"finding {status_class(finding.status)}",
        )


class FindingsList(Vertical):
    def __init__(self, findings: tuple[Finding, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.findings = findings

    def compose(self) -> ComposeResult:
        if not self.findings:
            yield Static("No findings.", classes="empty")
            return
        for number, (domain, findings) in enumerate(group_by_domain(self.findings)):
            status = worst([f.status for f in findings])
            later = " -later" if number else ""
            yield Static(
                Content(f"{STATUS_ICON[status]} {domain or SERVER_WIDE}"),
                classes=f"domain-heading {status_class(status)}{later}",
            )
            for finding in findings:
                yield FindingItem(finding)
