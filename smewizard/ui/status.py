"""How a status looks: icon, word and CSS class. One table shared by every widget."""

from __future__ import annotations

from smewizard.model import Status

STATUS_ICON = {
    Status.PASS: "✔",
    Status.INFO: "ℹ",
    Status.WARN: "▲",
    Status.UNKNOWN: "?",
    Status.FAIL: "✘",
}
NOT_AVAILABLE_ICON = "·"
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def status_class(status: Status | None) -> str:
    """CSS class for a status; "-none" before the first probe."""
    return f"-{status.value}" if status is not None else "-none"


ALL_STATUS_CLASSES = tuple(status_class(s) for s in Status) + ("-none", "-na", "-probing")
