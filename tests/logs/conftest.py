"""Every log-scan test runs twice: through the compiled loop (smewizard/logs/_scan.c) and the
pure-Python one, which must agree on everything a user sees."""

from __future__ import annotations

import pytest

from smewizard.logs import scan
from tests.conftest import lab_required


def require_compiled_loop():
    """The compiled loop: skipped where it was not built, a failure under CI (SMEWIZARD_LAB=1),
    whose install has a C compiler and Python's headers."""
    try:
        return scan.require_compiled()
    except RuntimeError as exc:
        if lab_required():
            pytest.fail(f"{exc} and SMEWIZARD_LAB=1 is set")
        pytest.skip(str(exc))


@pytest.fixture(autouse=True, params=["compiled", "python"])
def scan_loop(request, monkeypatch):
    if request.param == "compiled":
        monkeypatch.setattr(scan, "_compiled", require_compiled_loop())
    else:
        monkeypatch.setattr(scan, "_compiled", None)
    return request.param
