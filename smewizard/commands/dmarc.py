"""`smewizard dmarc report [PATH…] [--json] [--maildir DIR]`: read DMARC aggregate reports and
summarise them per domain and per sending IP.

Without PATH or --maildir it reads the server's rua mailbox (the mailbox the dmarc-feedback
pseudonym delivers to). Broken files are listed, never fatal. Exit 0, or 1 when nothing could
be read at all, 2 for a usage error (including a named PATH or --maildir that is missing or
unreadable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from smewizard.commands.common import EXIT_FAIL, EXIT_OK, add_target_options, build_context
from smewizard.dmarc import ramp as rampmod
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
    g = dsub.add_parser(
        "ramp",
        help="show each domain's policy stage, days at it, and whether the next is safe",
        description="Show the DMARC ramp (none → quarantine → reject) per domain with the evidence. "
        "With --min-days/--threshold/--test-stages, store those settings on the server first "
        f"(in {rampmod.STATE_PATH}).",
    )
    g.add_argument("--min-days", type=int, metavar="N", help="minimum days at a stage (default 14)")
    g.add_argument("--threshold", type=float, metavar="PERCENT",
                   help="share of legitimate mail that must pass DMARC, in percent (default 98)")
    g.add_argument("--test-stages", action=argparse.BooleanOptionalAction, default=None,
                   help="go through the DMARC t=y (policy testing) stages")
    g.add_argument("--json", action="store_true", help="machine-readable output")
    add_target_options(g)
    g.set_defaults(func=run_ramp)


def check_named_inputs(paths: list[str]) -> None:
    """A file or directory named on the command line that is missing or unreadable is an input
    error (exit 2), unlike a broken report inside a readable directory (listed, exit 0/1)."""
    for path in paths:
        if not os.path.exists(path):
            raise InvalidValue(f"{path}: no such file or directory; nothing was read")
        if not os.access(path, os.R_OK):
            raise InvalidValue(f"{path}: permission denied; nothing was read")


def run_report(args: argparse.Namespace) -> int:
    if not 1 <= args.max_size <= 1024:
        raise InvalidValue("--max-size must be between 1 and 1024 MiB")
    check_named_inputs([*args.paths, *args.maildir])
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
    if summary.domains:
        lines.append("")
        lines.append("DKIM/SPF columns are DMARC-aligned passes as the receivers judged them.")
    return "\n".join(lines) + "\n"


def run_ramp(args: argparse.Namespace) -> int:
    from smewizard.engine import run_audit

    ctx = build_context(args)
    changes = {k: v for k, v in (("min_days", args.min_days), ("threshold", args.threshold),
                                  ("test_stages", args.test_stages)) if v is not None}
    if "threshold" in changes:
        changes["threshold"] = changes["threshold"] / 100
    if changes:
        current = rampmod.read_state(ctx.host).settings or rampmod.RampSettings()
        settings = rampmod.RampSettings(**{**current.__dict__, **changes})  # validates
        described = (f"minimum {settings.min_days} days, threshold {settings.threshold:.0%}, test stages "
                     f"{'on' if settings.test_stages else 'off'}")
        if ctx.dry_run:
            print(f"dry run: would save to {rampmod.STATE_PATH}: {described}; nothing was changed "
                  "(the verdicts below use the saved settings)", file=sys.stderr)
        else:
            rampmod.write_settings(ctx.host, settings)
            print(f"saved to {rampmod.STATE_PATH}: {described}", file=sys.stderr)
    result = asyncio.run(run_audit(ctx, ["dmarc"]))
    facts = result.facts.get("dmarc")
    if facts is None:
        raise InvalidValue("the DMARC step is not available")
    verdicts = [facts.verdicts[d.domain] for d in facts.domains if d.domain in facts.verdicts]
    if args.json:
        json.dump({"schema": JSON_SCHEMA_VERSION, "settings": facts.settings.__dict__,
                   "domains": [ramp_json(v) for v in verdicts]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(ramp_text(facts.settings, verdicts, [d.domain for d in facts.domains]))
    return EXIT_OK


def ramp_json(v: rampmod.RampVerdict) -> dict:
    return {
        "domain": v.domain,
        "stage": v.stage,
        "since": v.since.isoformat() if v.since else None,
        "since_source": v.since_source or None,
        "days": v.days,
        "next_stage": v.next_stage,
        "previous_stage": v.previous_stage,
        "ready": v.ready,
        "reasons": list(v.reasons),
        "legitimate_messages": v.legit_messages,
        "legitimate_pass_rate": v.legit_rate,
        "would_be_hurt": [s.to_json() for s in v.hurt],
        "unrecognised_sources": [s.to_json() for s in v.unrecognised],
    }


def ramp_text(settings: rampmod.RampSettings, verdicts: list[rampmod.RampVerdict], domains: list[str]) -> str:
    lines = [f"Ramp settings: minimum {settings.min_days} days per stage, {settings.threshold:.0%} of legitimate "
             f"mail must pass, test stages {'on' if settings.test_stages else 'off'}"]
    shown = {v.domain for v in verdicts}
    for v in verdicts:
        days = f"{v.days} days" if v.days is not None else "days unknown"
        state = ("final stage" if v.next_stage is None else
                 f"READY for {rampmod.STAGE_LABEL[v.next_stage]}" if v.ready else
                 f"not yet ready for {rampmod.STAGE_LABEL[v.next_stage]}")
        lines += ["", f"{v.domain}: {rampmod.STAGE_LABEL[v.stage]}, {days} — {state}"]
        lines += [f"  - {r}" for r in v.reasons]
        if v.previous_stage:
            lines.append(f"  step back: {rampmod.STAGE_LABEL[v.previous_stage]}")
    for d in domains:
        if d not in shown:
            lines += ["", f"{d}: no usable DMARC record (see `smewizard check --step dmarc`)"]
    return "\n".join(lines) + "\n"
