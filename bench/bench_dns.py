"""Print figures for the embedded DNS server and the Dns client (no assertions).

    .venv/bin/python bench/bench_dns.py [--names 500]

Measures: server start+stop, zone load, concurrent lookups (recursive and direct mode) of N
TXT names, a long TXT (UDP truncated, then TCP), and lookup_sync throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from smewizard.dns import Dns
from smewizard.dns.authserver import AuthServer


def timed(fn, repeat: int = 1) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def start_stop() -> None:
    server = AuthServer().start()
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=500)
    args = parser.parse_args()
    n = args.names

    print(f"server start+stop (median of 50): {timed(start_stop, 50) * 1000:.2f} ms")
    with AuthServer() as server:
        names = [f"d{i}.example.com" for i in range(n)]

        def load() -> None:
            server.add_zone("example.com")
            for i, name in enumerate(names):
                server.set_txt(name, [f"v=spf1 ip4:192.0.2.{i % 256} -all"])

        print(f"zone load with {n} TXT RRsets: {timed(load) * 1000:.1f} ms")
        server.set_txt("long.example.com", ["v=DKIM1; k=rsa; p=" + "A" * 5000])

        for direct in (False, True):
            client = Dns([server.address], timeout=3.0, direct=direct)
            start = time.perf_counter()
            lookups = asyncio.run(client.many([(name, "TXT") for name in names]))
            took = time.perf_counter() - start
            ok = sum(lk.ok for lk in lookups)
            mode = "direct" if direct else "recursive"
            print(f"many() {n} TXT ({mode}): {took * 1000:.1f} ms, {n / took:.0f}/s, {ok} answered")

        client = Dns([server.address], timeout=3.0)
        took = timed(lambda: asyncio.run(client.txt("long.example.com")), 20)
        print(f"5,000-char TXT (UDP TC then TCP), median of 20: {took * 1000:.2f} ms")
        took = timed(lambda: [client.lookup_sync(name, "TXT") for name in names[:100]])
        print(f"lookup_sync x100 sequential: {took * 1000:.1f} ms ({took * 10:.2f} ms each)")
        print(f"queries received by the server: {len(server.queries)}")


if __name__ == "__main__":
    main()
