"""LocalHost.run_stream: output lines reach the callback as the command prints them (for
signal-event's progress), the exit status and timeouts are reported like run()."""

from __future__ import annotations

import os
from pathlib import Path

from smewizard.actions.apply import apply_actions
from smewizard.actions.base import SignalEvent
from smewizard.host import LocalHost


def tool(root: Path, name: str, script: str) -> None:
    path = root / "sbin/e-smith" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_lines_arrive_in_order_with_stderr_merged(tmp_path):
    tool(tmp_path, "chatty", 'echo one; echo two >&2; printf "three"\nexit 3\n')
    seen: list[str] = []
    result = LocalHost(tmp_path).run_stream(["chatty"], seen.append, timeout=30)
    assert seen == ["one", "two", "three"]
    assert result.returncode == 3 and not result.ok and not result.timed_out


def test_a_line_is_delivered_before_the_command_ends(tmp_path):
    """The command waits until it sees that its first line was handed over."""
    flag = tmp_path / "seen"
    tool(tmp_path, "waits", f'echo first\nwhile [ ! -e {flag} ]; do sleep 0.05; done\necho second\n')
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        if line == "first":
            flag.touch()

    result = LocalHost(tmp_path).run_stream(["waits"], on_line, timeout=60)
    assert result.ok and seen == ["first", "second"]


def test_timeout_kills_the_command(tmp_path):
    tool(tmp_path, "hangs", "echo started\nexec sleep 600\n")
    seen: list[str] = []
    result = LocalHost(tmp_path).run_stream(["hangs"], seen.append, timeout=0.5)
    assert result.timed_out and not result.ok and seen == ["started"]


def test_signal_event_streams_through_apply_with_progress(tmp_path):
    (tmp_path / "home/e-smith/db").mkdir(parents=True)
    tool(tmp_path, "signal-event", 'for h in S05templates S10dkim S90adjust; do echo "running $h"; done\n')
    progress: list[tuple[int, int]] = []
    lines: list[str] = []
    report = apply_actions(
        LocalHost(tmp_path), [SignalEvent("email-update")],
        on_progress=lambda i, n, a: progress.append((i, n)),
        on_output=lambda action, line: lines.append(line),
    )
    assert report.ok, report.refused
    assert progress == [(0, 1)]
    assert lines == ["running S05templates", "running S10dkim", "running S90adjust"]
    assert os.path.exists(tmp_path / "var/log/smewizard/audit.log")
