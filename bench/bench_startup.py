#!/usr/bin/env python3
"""Start-up benchmark: launch → first interactive frame, `smewizard demo` vs a bare Textual app.

Both are started the same way, as a fresh process on a pseudo-terminal (120×40), and timed until
their first frame reaches the terminal (a known footer text appears in the output stream). For
the demo, the time until the first audit has finished is printed too (the SPF status icon
appears in the sidebar). Prints the figures; asserts nothing.

    .venv/bin/python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import termios
import textwrap
import time
from pathlib import Path

COLUMNS, ROWS = 120, 40
BARE_APP = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        BINDINGS = [("q", "quit", "Quit-bare")]
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()

    Bare().run()
    """
)


def spawn(argv: list[str]) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ["TERM"] = "xterm-256color"
        os.environ.pop("TEXTUAL", None)
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    return pid, fd


def wait_for(fd: int, markers: list[bytes], started: float, limit: float = 60.0) -> dict[bytes, float]:
    """Seconds from `started` until each marker first appeared in the output."""
    seen: dict[bytes, float] = {}
    buffer = b""
    while len(seen) < len(markers) and time.perf_counter() - started < limit:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buffer += chunk
        now = time.perf_counter() - started
        for marker in markers:
            if marker not in seen and marker in buffer:
                seen[marker] = now
    return seen


def stop(pid: int, fd: int) -> None:
    try:
        os.write(fd, b"q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            select.select([fd], [], [], 0.05)
            try:
                os.read(fd, 65536)
            except OSError:
                pass
        else:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)


def measure(argv: list[str], markers: list[bytes]) -> dict[bytes, float]:
    started = time.perf_counter()
    pid, fd = spawn(argv)
    try:
        return wait_for(fd, markers, started)
    finally:
        stop(pid, fd)


def main() -> int:
    parser = argparse.ArgumentParser(description="launch → first frame, demo vs bare Textual")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    smewizard = str(Path(python).with_name("smewizard"))
    demo_cmd = [smewizard, "demo"] if os.path.exists(smewizard) else [python, "-m", "smewizard", "demo"]
    first_frame, audited = b"Re-verify", "✘ 1 SPF".encode()
    bare, demo, demo_audit = [], [], []
    for _ in range(args.runs):  # interleaved, so machine load hits both alike
        seen = measure([python, "-c", BARE_APP], [b"Quit-bare"])
        if b"Quit-bare" in seen:
            bare.append(seen[b"Quit-bare"])
        seen = measure(demo_cmd, [first_frame, audited])
        if first_frame in seen:
            demo.append(seen[first_frame])
        if audited in seen:
            demo_audit.append(seen[audited])
    if not bare or not demo:
        print(f"could not observe a first frame (bare: {len(bare)}, demo: {len(demo)} runs)")
        return 1
    b, d = statistics.median(bare), statistics.median(demo)
    print(f"runs: {args.runs}, terminal {COLUMNS}x{ROWS}, median (min)")
    print(f"bare Textual app   launch → first frame: {b * 1000:7.0f} ms ({min(bare) * 1000:.0f})")
    print(f"smewizard demo     launch → first frame: {d * 1000:7.0f} ms ({min(demo) * 1000:.0f})")
    if demo_audit:
        a = statistics.median(demo_audit)
        print(f"smewizard demo     launch → SPF audited: {a * 1000:7.0f} ms ({min(demo_audit) * 1000:.0f})")
    print(f"ratio demo / bare (first frame): {d / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
