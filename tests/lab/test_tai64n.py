"""Oracle: Debian daemontools. multilog writes real labels, tai64nlocal decodes them; our
decoder must print the same times (TZ=UTC so both use the same zone)."""

import os
import subprocess
from datetime import UTC
from pathlib import Path

from smewizard.logs import scan_files
from smewizard.logs.tai64n import to_local_lines
from tests.conftest import need_program


def test_our_times_equal_tai64nlocal_on_real_multilog_output(tmp_path: Path):
    multilog = need_program("multilog")
    tai64nlocal = need_program("tai64nlocal")
    logdir = tmp_path / "log"
    lines = [f"{4000 + i} (data_post_headers) dkim: pass, we signed the message" for i in range(50)]
    lines.append("4049 (deny) logging::logterse: ` 192.0.2.1\th\th\t<a@example.com>\t<b@x.example>\tqueue\t250\tok")
    subprocess.run([multilog, "t", str(logdir)], input="\n".join(lines) + "\n", text=True, check=True, timeout=30)
    raw = (logdir / "current").read_bytes()
    assert raw.startswith(b"@4000") and raw.count(b"\n") == len(lines)
    oracle = subprocess.run(
        [tai64nlocal], input=raw, capture_output=True, check=True, timeout=30, env={**os.environ, "TZ": "UTC"}
    ).stdout
    assert to_local_lines(raw, UTC) == oracle
    summary = scan_files([str(logdir / "current")])
    signed = summary.domain("example.com").last_signed
    assert signed is not None and signed.pid == "4049"
    last_text = oracle.splitlines()[len(lines) - 2].decode()
    assert last_text.startswith(signed.when.local_text(UTC))
