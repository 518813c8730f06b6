"""Benchmark: the SPF step's audit of every hosted domain on the simulated `many-domains` root
(50 domains by default), DNS answered by the embedded authoritative server on loopback.

    .venv/bin/python bench/bench_spf_audit.py [--domains N] [--repeat R]

Prints figures only (no assertions): server facts probe, SPF probe (TXT + type-99 lookups,
include/a/mx walk, pyspf evaluation of the server and relay IPs per domain, in worker
threads), assess, the time per domain, and the same probe one domain at a time for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from smewizard.dns import Dns
from smewizard.dns.authserver import AuthServer
from smewizard.host import LocalHost
from smewizard.sim import build_root
from smewizard.steps.base import Context
from smewizard.steps.server import probe_server
from smewizard.steps.spf import STEP, SenderIp, probe_domain


async def one_run(root: Path, server: AuthServer) -> tuple[float, float, float, int, int]:
    ctx = Context(host=LocalHost(root), dns=Dns([server.address], timeout=2.0))
    start = time.perf_counter()
    facts_server = await probe_server(ctx)
    t_server = time.perf_counter() - start
    start = time.perf_counter()
    facts = await STEP.probe(ctx, facts_server)
    t_probe = time.perf_counter() - start
    start = time.perf_counter()
    assessment = STEP.assess(facts)
    t_assess = time.perf_counter() - start
    assert assessment.findings
    evaluations = sum(len(d.evaluations) + len(d.kept_evaluations) for d in facts.domains)
    return t_server, t_probe, t_assess, len(facts.domains), evaluations


async def sequential_probe(root: Path, server: AuthServer) -> float:
    """The SPF probe one domain after another (what concurrency saves)."""
    ctx = Context(host=LocalHost(root), dns=Dns([server.address], timeout=2.0))
    facts_server = await probe_server(ctx)
    senders = [SenderIp(p.address, "server", p.source) for p in facts_server.public_ips]
    senders += [SenderIp(ip, "relay", "smarthost") for ip in facts_server.relay_ips]
    start = time.perf_counter()
    for domain in facts_server.domains:
        await probe_domain(ctx, domain, senders)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AuthServer() as server:
        sim = build_root(Path(tmp) / "root", "many-domains", size=args.domains)
        sim.serve(server)
        runs = []
        for _ in range(args.repeat):
            server.clear_queries()
            runs.append(asyncio.run(one_run(sim.root, server)))
            queries = len(server.queries)
        domains, evaluations = runs[0][3], runs[0][4]
        t_server = statistics.median(r[0] for r in runs)
        t_probe = statistics.median(r[1] for r in runs)
        t_assess = statistics.median(r[2] for r in runs)
        wall = t_server + t_probe + t_assess
        print(f"SPF audit of {domains} domains (scenario many-domains, median of {args.repeat} runs)")
        print(f"  server facts probe : {t_server * 1000:8.1f} ms")
        print(f"  SPF probe          : {t_probe * 1000:8.1f} ms  ({evaluations} pyspf evaluations, "
              f"{queries} DNS queries answered by the server)")
        print(f"  assess             : {t_assess * 1000:8.1f} ms")
        print(f"  wall time          : {wall * 1000:8.1f} ms")
        print(f"  per domain         : {wall / domains * 1000:8.2f} ms")
        print(f"  slowest run        : {max(sum(r[:3]) for r in runs) * 1000:8.1f} ms")
        sequential = statistics.median(asyncio.run(sequential_probe(sim.root, server)) for _ in range(args.repeat))
        print(f"  SPF probe, one domain at a time: {sequential * 1000:8.1f} ms "
              f"({sequential / t_probe:.1f}x the concurrent probe)")


if __name__ == "__main__":
    main()
