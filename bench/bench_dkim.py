"""DKIM step costs: key generation, one sign+verify proof over loopback DNS, and a whole DKIM
probe of the simulated demo and good servers (every domain: files, links, DNS, proof).

    python bench/bench_dkim.py [--rounds 5]

Prints figures; asserts nothing.
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
from smewizard.mail import dkim as mk
from smewizard.sim import build_root
from smewizard.steps import dkim as step
from smewizard.steps.base import Context
from smewizard.steps.server import probe_server


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"


def bench_keygen(rounds: int) -> None:
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        mk.generate_private_key_pem()
        samples.append(time.perf_counter() - t)
    print(f"2048-bit key generation: {ms(samples)} ({rounds} keys)")


def bench_proof(rounds: int) -> None:
    pem = mk.generate_private_key_pem()
    public = mk.inspect_private_key(pem).public_b64
    with AuthServer() as server:
        server.add_zone("example.com")
        server.set_txt("nov2026._domainkey.example.com", [mk.dkim_record_value(public)])
        dns = Dns([server.address], timeout=1.0)

        def txt(name):
            lookup = dns.lookup_sync(name, "TXT")
            return lookup.values if lookup.ok else None

        samples = []
        for _ in range(rounds):
            t = time.perf_counter()
            assert mk.prove_key(pem, "example.com", "nov2026", txt).verified
            samples.append(time.perf_counter() - t)
    print(f"proof (dkimpy sign + verify, TXT over loopback UDP): {ms(samples)}")


def bench_probe(scenario: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, AuthServer() as server:
        sim = build_root(Path(tmp) / "root", scenario)
        sim.serve(server)
        ctx = Context(host=sim.host(), dns=Dns([server.address], timeout=1.0))

        async def once() -> float:
            t = time.perf_counter()
            facts = await step.STEP.probe(ctx, await probe_server(ctx))
            step.STEP.assess(facts)
            return time.perf_counter() - t

        samples = [asyncio.run(once()) for _ in range(rounds)]
    print(f"DKIM probe + assess, {scenario} ({len(sim.domains)} domains): {ms(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bench_keygen(args.rounds)
    bench_proof(args.rounds)
    for scenario in ("demo", "good", "dkim-default-key"):
        bench_probe(scenario, args.rounds)


if __name__ == "__main__":
    main()
