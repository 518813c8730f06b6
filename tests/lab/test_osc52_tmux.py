"""Copying over SSH relies on OSC 52: the sequence Textual writes for `copy_text()` must reach
tmux's paste buffer when tmux has `set-clipboard on` (what we tell admins to set)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import need_program

pytestmark = pytest.mark.lab

APP = r'''
import sys
from textual.app import App
from smewizard.ui.clipboard import copy_text

class CopyOnce(App):
    def on_mount(self):
        outcome = copy_text(sys.argv[1], self.copy_to_clipboard, env={})
        assert outcome.osc52 and not outcome.local
        self.set_timer(0.5, self.exit)

CopyOnce().run()
'''


def test_osc52_copy_reaches_tmux_buffer(tmp_path):
    tmux = need_program("tmux")
    socket = f"smewizard-test-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "copy_once.py"
    script.write_text(APP)
    value = "v=DKIM1; k=rsa; p=MIIBIjANBgkq" + "A" * 300 + "IDAQAB"
    base = [tmux, "-L", socket, "-f", "/dev/null"]
    subprocess.run([*base, "new-session", "-d", "-x", "100", "-y", "30", "sh"], check=True)
    try:
        subprocess.run([*base, "set-option", "-g", "set-clipboard", "on"], check=True)
        subprocess.run([*base, "set-buffer", "placeholder"], check=True)
        subprocess.run(
            [*base, "send-keys", f"{sys.executable} {script} '{value}'; exit", "Enter"], check=True
        )
        deadline = time.monotonic() + 20
        buffer = ""
        while time.monotonic() < deadline:
            buffer = subprocess.run([*base, "show-buffer"], capture_output=True, text=True).stdout
            if buffer == value:
                break
            time.sleep(0.2)
        assert buffer == value
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True)
