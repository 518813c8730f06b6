"""Safe-apply costs: applying every change the demo and fresh scenarios propose (journal,
undo data, audit log, commands through the simulated `db`/`signal-event`), undoing it, the
preview, and raw audit-log appends (O_APPEND + fsync).

    python bench/bench_safe_apply.py [--rounds 3] [--appends 500]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from smewizard.actions.apply import apply_actions, preview
from smewizard.actions.audit import write_audit
from smewizard.actions.undo import find_run, plan_undo, undo_run
from smewizard.dns import Dns
from smewizard.dns.authserver import AuthServer
from smewizard.engine import run_audit
from smewizard.sim import build_root
from smewizard.steps.base import Context


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"


def one_round(scenario: str, workdir: Path, server: AuthServer) -> tuple[int, float, float, float]:
    sim = build_root(Path(tempfile.mkdtemp(dir=workdir)) / "root", scenario)
    sim.serve(server)
    ctx = Context(host=sim.host(), dns=Dns([server.address], timeout=2.0))
    result = asyncio.run(run_audit(ctx))
    actions = [a for x in result.assessments.values() for a in x.actions]
    host = sim.host()
    start = time.perf_counter()
    preview(host, actions)
    shown = time.perf_counter() - start
    start = time.perf_counter()
    apply_actions(host, actions)
    applied = time.perf_counter() - start
    start = time.perf_counter()
    undo_run(host, plan_undo(host, find_run(host, None)))
    undone = time.perf_counter() - start
    for origin in list(sim.zones):
        server.remove_zone(origin)
    return len(actions), shown, applied, undone


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--appends", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AuthServer() as server:
        workdir = Path(tmp)
        for scenario in ("demo", "fresh"):
            rounds = [one_round(scenario, workdir, server) for _ in range(args.rounds)]
            count = rounds[0][0]
            print(f"{scenario}: {count} actions")
            print(f"  preview        {ms([r[1] for r in rounds])}")
            print(f"  apply (all)    {ms([r[2] for r in rounds])}  = {statistics.median(r[2] for r in rounds) / count * 1000:.1f} ms/action")
            print(f"  undo (all)     {ms([r[3] for r in rounds])}")
        sim = build_root(workdir / "audit-root", "fresh")
        host = sim.host()
        entry = {"time": "2026-11-25T01:00:00+0000", "run": "x", "action": "SetProp",
                 "command": ["db configuration setprop qpsmtpd DKIMSigning enabled"], "output_tail": "x" * 300}
        start = time.perf_counter()
        for _ in range(args.appends):
            write_audit(host, entry)
        took = time.perf_counter() - start
        print(f"audit log: {args.appends} appends (scrub + O_APPEND + fsync) in {took * 1000:.0f} ms "
              f"= {took / args.appends * 1e6:.0f} µs/line")


if __name__ == "__main__":
    main()
