"""Benchmark: the bounce step's Maildir ownership audit on the simulated `many-users` root
(2,000 users by default), compared with the guide's shell loop (guide Part 5) on the same tree.

    .venv/bin/python bench/bench_junkmail.py [--users N] [--repeat R]

Prints figures only (no assertions). Run as root so the wrongly owned folders exist.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from smewizard.dns import Dns
from smewizard.model import Status
from smewizard.sim import build_root
from smewizard.steps.base import Context
from smewizard.steps.bounce import MAILDIR_PARTS, STEP
from smewizard.steps.server import probe_server

# The guide's loop (Part 5), verbatim apart from the root prefix.
GUIDE_LOOP = r"""
for u in $(ls "$ROOT/home/e-smith/files/users/"); do
  dir="$ROOT/home/e-smith/files/users/$u/Maildir/.junkmail/tmp"
  if [ -d "$dir" ]; then
    owner=$(stat -c "%U" "$dir")
    if [ "$owner" != "$u" ]; then
      echo "WRONG OWNER: $dir owned by $owner"
    fi
  fi
done
"""


def wizard_audit(root: Path):
    ctx = Context(host=None, dns=Dns([("127.0.0.1", 9)], timeout=0.2), public_ips=("203.0.113.10",))
    from smewizard.host import LocalHost

    ctx.host = LocalHost(root)

    async def go():
        server = await probe_server(ctx)
        facts = await STEP.probe(ctx, server)
        return facts, STEP.assess(facts)

    return asyncio.run(go())


def timed(func, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-junkmail-") as tmp:
        root = Path(tmp) / "root"
        start = time.perf_counter()
        sim = build_root(root, "many-users", size=args.users)
        print(f"built many-users root with {len(sim.users)} users in {time.perf_counter() - start:.2f} s "
              f"(ownership applied: {sim.ownership_applied}, euid {os.geteuid()})")

        wiz_times, (facts, result) = timed(lambda: wizard_audit(root), args.repeat)
        wrong = [f for f in result.findings if f.code == "BNC003"]
        chowns = [a for a in result.actions if type(a).__name__ == "Chown"]
        wiz = statistics.median(wiz_times)
        n = len(facts.users)
        print(f"wizard audit (whole step, {len(MAILDIR_PARTS)} folders/user): median {wiz:.3f} s over "
              f"{args.repeat} runs, {n} users, {wiz / max(n, 1) * 1e6:.0f} µs/user; "
              f"{len(wrong)} wrong owners, {len(chowns)} chown actions, "
              f"status {'fail' if any(f.status is Status.FAIL for f in result.findings) else 'ok'}")

        env = dict(os.environ, ROOT=str(root))
        sh_times, proc = timed(
            lambda: subprocess.run(["bash", "-c", GUIDE_LOOP], env=env, capture_output=True, text=True, check=False),
            args.repeat,
        )
        sh = statistics.median(sh_times)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("WRONG OWNER")]
        print(f"guide shell loop (.junkmail/tmp only): median {sh:.3f} s, {sh / max(n, 1) * 1e6:.0f} µs/user; "
              f"{len(lines)} WRONG OWNER lines")
        if len(lines) != len(wrong):
            print("  (the shell loop resolves owner names through this machine's /etc/passwd, which "
                  "lacks the simulated users, so its WRONG OWNER count is not comparable here; "
                  "only its time is)")
        print(f"ratio shell/wizard: {sh / wiz:.1f}x (the wizard checks {len(MAILDIR_PARTS)}x more folders)")


if __name__ == "__main__":
    main()
