"""LocalHost turns OS errors into typed host errors whose message fits reads and writes."""

from __future__ import annotations

import errno

import pytest

from smewizard.host.base import PermissionDenied
from smewizard.host.local import _errors


def test_permission_denied_says_root_is_needed_without_claiming_a_change():
    """A non-root `check` reading a 0640 db used to be told "(changes need root)"."""
    with pytest.raises(PermissionDenied) as caught, _errors("/home/e-smith/db/configuration"):
        raise PermissionError(errno.EACCES, "Permission denied")
    message = str(caught.value)
    assert message == "/home/e-smith/db/configuration: Permission denied (needs root)"
