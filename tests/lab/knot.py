"""Knot DNS (Debian's knotd) on 127.0.0.1 for lab tests: an independent, real authoritative
server for zone files the wizard's records are pasted into. Started and stopped by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from smewizard.dns import Dns
from tests.conftest import need_program


@dataclass
class KnotLab:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def dns(self) -> Dns:
        return Dns([self.address], timeout=1.0)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def zone_text(origin: str, lines: list[str], serial: int = 2026112501) -> str:
    """A small zone: SOA, NS with glue on 127.0.0.1, then `lines` (BIND presentation format)."""
    return "\n".join([
        f"$ORIGIN {origin}.",
        "$TTL 60",
        f"@ IN SOA ns1.{origin}. hostmaster.{origin}. ( {serial} 3600 600 86400 60 )",
        f"@ IN NS ns1.{origin}.",
        "ns1 IN A 127.0.0.1",
        *lines,
        "",
    ])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_knot(workdir: Path, zones: dict[str, str]) -> KnotLab:
    """knotd serving `zones` ({origin: zone file text}) on 127.0.0.1:<free port>."""
    knotd = need_program("knotd")
    knotc = need_program("knotc")
    for sub in ("run", "db", "zones"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    for origin, text in zones.items():
        (workdir / "zones" / f"{origin}.zone").write_text(text)
    port = _free_port()
    conf = workdir / "knot.conf"
    zone_entries = "".join(f"  - domain: {o}\n    file: \"{o}.zone\"\n" for o in zones)
    conf.write_text(
        "server:\n"
        f"    rundir: \"{workdir}/run\"\n"
        f"    pidfile: \"{workdir}/run/knot.pid\"\n"
        f"    listen: 127.0.0.1@{port}\n"
        "database:\n"
        f"    storage: \"{workdir}/db\"\n"
        "control:\n"
        f"    listen: \"{workdir}/run/knot.sock\"\n"
        "log:\n  - target: stderr\n    any: info\n"
        "template:\n  - id: default\n"
        f"    storage: \"{workdir}/zones\"\n"
        "    semantic-checks: on\n    zonefile-sync: -1\n    zonefile-load: whole\n"
        "    journal-content: none\n"
        f"zone:\n{zone_entries}"
    )
    check = subprocess.run([knotc, "-c", str(conf), "conf-check"], capture_output=True, text=True)
    if check.returncode != 0:
        raise AssertionError(f"knot.conf rejected: {check.stdout}{check.stderr}")
    log = workdir / "knotd.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([knotd, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    lab = KnotLab(port, process, log)
    try:
        _wait_ready(lab, next(iter(zones)))
    except BaseException:
        lab.stop()
        raise
    return lab


def _wait_ready(lab: KnotLab, origin: str, timeout: float = 15.0) -> None:
    dns = lab.dns()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise AssertionError(f"knotd exited {lab.process.returncode}:\n{lab.log.read_text()}")
        if dns.lookup_sync(origin, "SOA").ok:
            return
        time.sleep(0.02)
    raise AssertionError(f"knotd never served {origin}:\n{lab.log.read_text()}")
