"""`smewizard dmarc report [PATH…] [--json] [--maildir DIR]`: read DMARC aggregate reports and
summarise them per domain and per sending IP.

Without PATH or --maildir it reads the server's rua mailbox (the mailbox the dmarc-feedback
pseudonym delivers to). Broken files are listed, never fatal. Exit 0, or 1 when nothing could
be read at all, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from smewizard.commands.common import EXIT_FAIL, EXIT_OK, add_target_options, build_context
from smewizard.dmarc.reports import DEFAULT_LIMITS, Ingest, Limits, MiB, ingest, ingest_host_maildir
from smewizard.dmarc.summary import DomainSummary, Summary, enrich, sparkline, summarize
from smewizard.sme.config import SmeConfig
from smewizard.validate import InvalidValue

JSON_SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dmarc", help="DMARC aggregate reports", description="DMARC tools.")
    dsub = p.add_subparsers(dest="dmarc_command", metavar="SUBCOMMAND", required=True)
    r = dsub.add_parser(
        "report",
        help="summarise aggregate reports (files, directories, Maildirs)",
        description="Read RFC 7489/9990 aggregate reports (.xml, .xml.gz, .zip, or report e-mails) "
        "and print per-domain and per-source pass rates.",
    )
    r.add_argument("paths", nargs="*", metavar="PATH", help="report files or directories (a Maildir is recognised)")
    r.add_argument("--maildir", action="append", default=[], metavar="DIR", help="a Maildir to read (repeatable)")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--all-domains", action="store_true", help="also summarise domains this server does not host")
    r.add_argument("--no-dns", action="store_true", help="skip the SPF and reverse-name lookups")
    r.add_argument("--max-size", type=int, default=DEFAULT_LIMITS.max_input_bytes // MiB, metavar="MIB",
                   help="largest file or message to read (default %(default)s MiB)")
    add_target_options(r)
    r.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    if not 1 <= args.max_size <= 1024:
        raise InvalidValue("--max-size must be between 1 and 1024 MiB")
    limits = Limits(max_input_bytes=args.max_size * MiB, max_xml_bytes=max(2 * args.max_size, 32) * MiB)
    ctx = build_context(args)
    hosted: list[str] | None = None
    try:
        config = SmeConfig.load(ctx.host)
        hosted = config.hosted_domains or None
    except Exception:  # noqa: BLE001 - no SME here (a workstation): summarise every domain
        config = None
    paths = [*args.paths, *args.maildir]
    if paths:
        result = ingest(paths, limits)
    else:
        from smewizard.steps.dmarc import PSEUDONYM, maildir_of

        target = config.pseudonym_target(PSEUDONYM) if config else None
        maildir = maildir_of(target)
        if not maildir:
            raise InvalidValue("no PATH given and this server has no dmarc-feedback pseudonym to read")
        result = ingest_host_maildir(ctx.host, maildir, limits)
    wanted = None if args.all_domains else (list(ctx.only_domains) or hosted)
    summary = summarize(result.reports, wanted)
    if not args.no_dns and summary.domains:
        summary = asyncio.run(enrich(summary, ctx.dns))
    if args.json:
        json.dump(to_json(result, summary), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(result, summary))
    return EXIT_FAIL if not result.reports and result.problems else EXIT_OK


def to_json(result: Ingest, summary: Summary) -> dict:
    return {
        "schema": JSON_SCHEMA_VERSION,
        "inputs": result.inputs,
        "reports": len(result.reports),
        "duplicates": result.duplicates,
        "skipped_messages": result.skipped_messages,
        "problems": [{"source": p.source, "message": p.message} for p in result.problems],
        "warnings": [{"source": r.source, "message": w} for r in result.reports for w in r.warnings],
        "other_domains": [{"domain": d, "reports": n} for d, n in summary.foreign],
        "domains": [d.to_json() for d in summary.domains],
    }


def _pct(x: float) -> str:
    return f"{x * 100:5.1f}%"


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def domain_text(d: DomainSummary) -> list[str]:
    lines = [
        f"{d.domain}: {d.reports} report(s), {d.messages} message(s), DMARC pass {_pct(d.pass_rate).strip()}"
        f" (from {d.first:%Y-%m-%d} to {d.last:%Y-%m-%d}; reporters: {', '.join(d.reporters) or '?'})",
        f"  daily pass rate  {sparkline(d.daily)}",
        f"  {'source IP':<39} {'msgs':>7} {'pass':>6} {'DKIM':>6} {'SPF':>6} {'in SPF':>6}  reverse name",
    ]
    for s in d.sources[:50]:
        lines.append(
            f"  {s.ip:<39} {s.messages:>7} {_pct(s.pass_rate)} {_pct(s.dkim_rate)} {_pct(s.spf_rate)} "
            f"{_yes_no(s.in_spf):>6}  {s.reverse_name or '-'}"
        )
    if len(d.sources) > 50:
        lines.append(f"  … and {len(d.sources) - 50} more sources (--json lists all)")
    return lines


def to_text(result: Ingest, summary: Summary) -> str:
    lines = [
        f"Read {result.inputs} input(s): {len(result.reports)} report(s), {result.duplicates} duplicate(s), "
        f"{len(result.problems)} problem(s)" + (f", {result.skipped_messages} other message(s) skipped" if result.skipped_messages else "")
    ]
    for p in result.problems:
        lines.append(f"  problem: {p.source}: {p.message}")
    for r in result.reports:
        for w in r.warnings:
            lines.append(f"  warning: {r.source}: {w}")
    for domain, n in summary.foreign:
        lines.append(f"  {n} report(s) for {domain}, which this server does not host (not counted; --all-domains shows them)")
    for d in summary.domains:
        lines.append("")
        lines += domain_text(d)
    lines.append("")
    lines.append("DKIM/SPF columns are DMARC-aligned passes as the receivers judged them.")
    return "\n".join(lines) + "\n"
