"""Shared test configuration. Fixtures live in tests/fixtures_*.py plugins, one per concern."""

import os

import pytest

pytest_plugins = [
    name
    for name in ("tests.fixtures_dns", "tests.fixtures_sim", "tests.fixtures_ui", "tests.fixtures_lab")
    if os.path.exists(os.path.join(os.path.dirname(__file__), name.split(".")[1] + ".py"))
]


def lab_required() -> bool:
    """CI sets SMEWIZARD_LAB=1: a missing lab program then fails instead of skipping."""
    return os.environ.get("SMEWIZARD_LAB") == "1"


def need_program(path_or_name: str) -> str:
    """Path of a real third-party program for a lab test; skip (or fail under CI) if absent."""
    import shutil

    found = shutil.which(path_or_name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if found:
        return found
    message = f"{path_or_name} is not installed (Debian package needed for the lab)"
    if lab_required():
        pytest.fail(message + " and SMEWIZARD_LAB=1 is set")
    pytest.skip(message)
