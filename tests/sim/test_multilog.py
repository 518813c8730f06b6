"""Our TAI64N labels against daemontools' own tai64nlocal (lab oracle)."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from smewizard.sim.multilog import multilog_text, tai64n_label
from tests.conftest import need_program


def test_label_shape():
    label = tai64n_label(1764030000.25)
    assert label.startswith("@4000") and len(label) == 25
    assert label == label.lower()
    assert label[-8:] == f"{250_000_000:08x}"


@pytest.mark.lab
def test_tai64nlocal_reads_our_labels_as_the_right_time():
    program = need_program("tai64nlocal")
    when = 1764030000.5
    result = subprocess.run(
        [program],
        input=multilog_text([(when, "21407 (data_post) dkim: pass, we signed the message")]),
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        check=True,
    )
    expected = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when)) + ".500000000"
    assert result.stdout == f"{expected} 21407 (data_post) dkim: pass, we signed the message\n"
