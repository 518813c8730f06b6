"""Full audit of a 20-domain simulated server: locally vs over SSH (real sshd on 127.0.0.1).

Prints wall time for each, the number of Host operations the audit made, and the number of SSH
round trips they cost remotely (the snapshot read answers most of them at once).
Needs root and Debian's openssh-server (as the lab tests do).

    .venv/bin/python bench/bench_ssh_audit.py [--domains 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smewizard.dns import Dns  # noqa: E402
from smewizard.dns.authserver import AuthServer  # noqa: E402
from smewizard.engine import run_audit  # noqa: E402
from smewizard.host import LocalHost  # noqa: E402
from smewizard.host.ssh import SshHost  # noqa: E402
from smewizard.sim import build_root  # noqa: E402
from smewizard.steps.base import Context  # noqa: E402
from tests.lab.sshd import start_sshd, stop_sshd  # noqa: E402


class CountingHost:
    """Counts the Host calls an audit makes (local runs have no round trips to count)."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if callable(attr):
            def counted(*args, **kwargs):
                self.calls += 1
                return attr(*args, **kwargs)
            return counted
        return attr


def audit(host, dns) -> float:
    start = time.perf_counter()
    asyncio.run(run_audit(Context(host=host, dns=dns)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--domains", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AuthServer() as server:
        sim = build_root(Path(tmp) / "root", "many-domains", size=args.domains)
        sim.serve(server)
        dns = Dns([server.address], timeout=2.0)
        lab = start_sshd(Path(tmp) / "sshd")
        try:
            local_times, remote_times, trips = [], [], []
            counter = CountingHost(LocalHost(sim.root))
            for _ in range(args.runs):
                counter.calls = 0
                local_times.append(audit(counter, dns))
                with SshHost(lab.target, root=str(sim.root), ssh_config=str(lab.client_config)) as host:
                    host.connect()
                    before = host.round_trips
                    remote_times.append(audit(host, dns))
                    trips.append(host.round_trips - before)
        finally:
            stop_sshd(lab)
    local, remote = statistics.median(local_times), statistics.median(remote_times)
    print(f"full audit of {args.domains} domains, median of {args.runs} runs")
    print(f"  local : {local * 1000:8.1f} ms  ({counter.calls} Host calls)")
    print(f"  ssh   : {remote * 1000:8.1f} ms  ({statistics.median(trips):.0f} SSH round trips, connection already open)")
    print(f"  ratio remote/local wall time: {remote / local:.2f}x")


if __name__ == "__main__":
    main()
