"""Proposed server changes with their exact shell commands, and the Apply button."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from smewizard.actions.base import Action


class ActionsList(Vertical):
    def __init__(self, actions: tuple[Action, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.actions = actions

    def compose(self) -> ComposeResult:
        if not self.actions:
            yield Static("No server changes proposed.", classes="empty")
            return
        for number, action in enumerate(self.actions, 1):
            yield Static(Content(f"{number}. {action.summary()}"), classes="action-summary")
            yield Static(
                Content("\n".join(f"# {cmd}" for cmd in action.shell())), classes="command"
            )
        with Horizontal(classes="buttons"):
            label = apply_label(self.actions)
            yield Button(label + " (a)", id="apply", variant="warning", compact=True)


def apply_label(actions) -> str:
    """"Apply 3 changes", not counting the checks that close a run ("+1 check")."""
    changes = sum(1 for a in actions if a.changes_server)
    checks = len(actions) - changes
    label = "Apply this change" if changes == 1 else f"Apply {changes} changes"
    return label + (f" (+{checks} check{'s' if checks > 1 else ''})" if checks else "")
