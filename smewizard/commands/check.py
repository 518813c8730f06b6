"""`smewizard check`: the whole audit without the UI, for scripts, cron and fleets."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from smewizard import __version__
from smewizard.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    add_target_options,
    build_context,
    close_host,
)
from smewizard.engine import AuditResult, run_audit
from smewizard.model import Status
from smewizard.steps.registry import STEP_INFO

JSON_SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="audit every step and print findings (exit 0: no fail, 1: a fail, 2: usage error)",
        description="Audit the server and DNS without changing anything.",
    )
    add_target_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (docs/check-json.md)")
    p.add_argument(
        "--step",
        action="append",
        default=[],
        choices=[i.key for i in STEP_INFO],
        help="only run this step (repeatable)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ctx = build_context(args)
    try:
        result = asyncio.run(run_audit(ctx, args.step or None))
    finally:
        close_host(ctx)
    if args.json:
        json.dump(to_json(result, ctx.host.description), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(result))
    return EXIT_FAIL if result.status is Status.FAIL else EXIT_OK


def to_json(result: AuditResult, target: str) -> dict:
    server = result.server
    return {
        "schema": JSON_SCHEMA_VERSION,
        "smewizard": __version__,
        "target": target,
        "status": str(result.status),
        "server": {
            "fqdn": server.config.fqdn,
            "primary_domain": server.config.domain_name,
            "domains": list(server.domains),
            "public_ips": [{"address": p.address, "source": p.source} for p in server.public_ips],
            "relay_host": server.relay_host,
            "relay_ips": list(server.relay_ips),
            "db_problems": [
                {"db": db, "line": p.line_number, "reason": p.reason} for db, p in server.config.problems
            ],
        },
        "steps": {
            key: {
                "status": str(a.status),
                "findings": [f.to_json() for f in a.findings],
                "actions": [
                    {"summary": act.summary(), "commands": act.shell(), "domain": getattr(act, "domain", None)}
                    for act in a.actions
                ],
                "records": [r.to_json() for r in a.records],
            }
            for key, a in result.assessments.items()
        },
    }


_MARK = {
    Status.PASS: "ok  ",
    Status.INFO: "info",
    Status.WARN: "WARN",
    Status.UNKNOWN: "??  ",
    Status.FAIL: "FAIL",
}


def to_text(result: AuditResult) -> str:
    lines = [f"Server {result.server.config.fqdn or '(no FQDN)'}: {len(result.server.domains)} domain(s)"]
    for _, problem in result.server.config.problems:
        lines.append(f"  db problem line {problem.line_number}: {problem.reason}")
    for key, assessment in result.assessments.items():
        lines.append(f"\n[{assessment.status}] {key}")
        for f in assessment.findings:
            where = f" {f.domain}:" if f.domain else ""
            lines.append(f"  {_MARK[f.status]} {f.code}{where} {f.message}")
        for action in assessment.actions:
            for cmd in action.shell():
                lines.append(f"    $ {cmd}")
        for rec in assessment.records:
            lines.append(f"    publish {rec.name} {rec.rtype} {rec.value}")
    lines.append(f"\nOverall: {result.status}")
    return "\n".join(lines) + "\n"
