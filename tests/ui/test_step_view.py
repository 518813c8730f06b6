"""The generic step view's extension points and the command palette."""

from __future__ import annotations

import sys
import types

from textual.widgets import Static

from smewizard.model import Status
from smewizard.steps.registry import StepInfo
from smewizard.ui.screens.step import StepView, state_panel_class, view_class
from smewizard.ui.snapshot import StepSnapshot


def test_a_step_without_a_ui_module_gets_the_generic_view_and_no_panel():
    assert view_class("no_such_step") is StepView
    assert state_panel_class("no_such_step") is None


def test_a_step_ui_module_provides_its_panel_and_view(monkeypatch):
    class Panel(Static):
        def __init__(self, snapshot: StepSnapshot) -> None:
            super().__init__(f"panel for {snapshot.key}")

    class View(StepView):
        pass

    module = types.ModuleType("smewizard.ui.screens.zz_example")
    module.StatePanel, module.View = Panel, View
    monkeypatch.setitem(sys.modules, module.__name__, module)
    assert state_panel_class("zz_example") is Panel
    assert view_class("zz_example") is View


def test_a_broken_step_ui_module_is_not_hidden(monkeypatch):
    """An import error inside the module is a bug to see, not "no panel"."""
    import pytest

    def broken(name, *args, **kwargs):
        if name == "smewizard.ui.screens.zz_broken":
            raise ModuleNotFoundError("No module named 'missing_dependency'", name="missing_dependency")
        return real_import(name, *args, **kwargs)

    import importlib

    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError):
        state_panel_class("zz_broken")


def test_snapshot_status_is_unknown_when_the_probe_failed():
    info = StepInfo("spf", "SPF", ("Part 1",), "smewizard.steps.spf")
    assert StepSnapshot(info, True, error="timeout").status is Status.UNKNOWN
    assert StepSnapshot(info, True).status is None  # not probed yet: no icon, not "pass"
