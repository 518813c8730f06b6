"""Aggregate-report parsing throughput: smewizard's streaming parser vs parsedmarc's.

Generates 1,000 reports (1-500 records each; plain XML, .xml.gz and .zip) in a temporary
directory, parses every file with both parsers in the same run and prints files/s, records/s
and the ratio. parsedmarc runs offline (`offline=True`, `always_use_local_files=True`: no DNS,
no downloads; it still looks each IP up in its bundled offline country database, which is
part of its per-record cost).

    pip install -e '.[bench]'          # parsedmarc, bench-only
    python bench/bench_dmarc_reports.py [--reports 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from smewizard.dmarc.reports import ingest
from smewizard.dmarc.sample import SampleRow, gzipped, report_xml, zipped


def generate(folder: Path, count: int, seed: int) -> int:
    rng = random.Random(seed)
    records = 0
    for i in range(count):
        n = rng.choice((1, 2, 5, 10, 20, 50, 100, 200, 500)) if rng.random() < 0.7 else rng.randint(1, 500)
        rows = [
            SampleRow(f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}", rng.randint(1, 40),
                      rng.choice(("pass", "pass", "pass", "fail")), rng.choice(("pass", "pass", "fail")))
            for _ in range(n)
        ]
        records += n
        xml = report_xml("example.com", rows, org=rng.choice(("google.com", "Yahoo", "Mail.Ru")), report_id=f"bench-{i}")
        kind = rng.random()
        if kind < 0.6:
            (folder / f"r{i}.xml").write_bytes(xml)
        elif kind < 0.85:
            (folder / f"r{i}.xml.gz").write_bytes(gzipped(xml))
        else:
            (folder / f"r{i}.zip").write_bytes(zipped({f"r{i}.xml": xml}))
    return records


def bench_ours(folder: Path) -> tuple[float, float, int, int]:
    start, cpu = time.perf_counter(), time.process_time()
    result = ingest([str(folder)])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return elapsed, cpu, len(result.reports), sum(len(r.rows) for r in result.reports)


def bench_parsedmarc(files: list[Path]) -> tuple[float, float, int, int] | None:
    try:
        import parsedmarc
    except ImportError:
        return None
    start, cpu = time.perf_counter(), time.process_time()
    reports = rows = 0
    for path in files:
        # Bytes, not the path: parsedmarc 11.1 fails to unpack .gz/.zip given as a path.
        report = parsedmarc.parse_aggregate_report_file(path.read_bytes(), offline=True, always_use_local_files=True)
        reports += 1
        rows += len(report["records"])
    return time.perf_counter() - start, time.process_time() - cpu, reports, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        records = generate(folder, args.reports, args.seed)
        files = sorted(folder.iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"{len(files)} report files, {records:,} records, {size / 1e6:.1f} MB on disk")
        ours = bench_ours(folder)
        print(f"smewizard : {ours[0]:7.2f} s ({ours[1]:.2f} s CPU)  {ours[2] / ours[0]:8.1f} reports/s  "
              f"{ours[3] / ours[0]:10,.0f} records/s")
        theirs = bench_parsedmarc(files)
        if theirs is None:
            print("parsedmarc: not installed (pip install -e '.[bench]'); no comparison")
            return
        print(f"parsedmarc: {theirs[0]:7.2f} s ({theirs[1]:.2f} s CPU)  {theirs[2] / theirs[0]:8.1f} reports/s  "
              f"{theirs[3] / theirs[0]:10,.0f} records/s")
        assert theirs[3] == ours[3], f"record counts differ: {ours[3]} vs {theirs[3]}"
        print(f"ratio     : smewizard is {theirs[0] / ours[0]:.1f}x parsedmarc's throughput by wall clock, "
              f"{theirs[1] / ours[1]:.1f}x by CPU time (goal >= 10x)")


if __name__ == "__main__":
    main()
