"""`smewizard check`: the whole audit without the UI, for scripts, cron and fleets."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from smewizard import __version__, checklist
from smewizard.actions.journal import interruption_notice
from smewizard.actions.plan import PlanError, action_to_json
from smewizard.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    add_target_options,
    build_context,
    close_host,
    require_hosted,
    require_sme_server,
)
from smewizard.engine import AuditResult, run_audit
from smewizard.model import Status
from smewizard.readonly import NEEDS_ROOT, WriteAccess, write_access
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
        require_sme_server(ctx)
        result = asyncio.run(run_audit(ctx, args.step or None))
        require_hosted(ctx, result.server.config.hosted_domains)
        access = write_access(ctx.host, ["apply", "--step", "STEP", *_target_args(args)])
        interrupted = interruption_notice(ctx.host)
    finally:
        close_host(ctx)
    if interrupted:
        print(interrupted, file=sys.stderr)
    return emit(result, ctx.host.description, access, as_json=args.json)


def emit(result: AuditResult, target: str, access: WriteAccess | None, *, as_json: bool) -> int:
    """Print the audit (text or JSON) and return check's exit status."""
    if as_json:
        json.dump(to_json(result, target, access), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(result, access))
    return EXIT_FAIL if result.status is Status.FAIL else EXIT_OK


def _target_args(args: argparse.Namespace) -> list[str]:
    """The target options again, for the "re-run as root" hint."""
    out = ["--root", args.root] if getattr(args, "root", None) else []
    for ns in getattr(args, "nameserver", []):
        out += ["--nameserver", ns]
    return out


def _serialised(action) -> dict | None:
    """The action as a plan entry (docs/safe-apply.md), None if it cannot be saved."""
    try:
        return action_to_json(action)
    except PlanError:
        return None


def to_json(result: AuditResult, target: str, access: WriteAccess | None = None) -> dict:
    server = result.server
    needs_root = access is not None and not access.allowed
    return {
        "schema": JSON_SCHEMA_VERSION,
        "smewizard": __version__,
        "target": target,
        "status": str(result.status),
        "read_only": {"reason": access.reason, "rerun": access.rerun} if needs_root else None,
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
                    {"summary": act.summary(), "commands": act.shell(), "domain": getattr(act, "domain", None),
                     "needs_root": needs_root, "action": _serialised(act)}
                    for act in a.actions
                ],
                "records": [r.to_json() for r in a.records],
            }
            for key, a in result.assessments.items()
        },
        "checklist": checklist.build(server.domains, result.assessments).to_json(),
    }


_MARK = {
    Status.PASS: "ok  ",
    Status.INFO: "info",
    Status.WARN: "WARN",
    Status.UNKNOWN: "??  ",
    Status.FAIL: "FAIL",
}


def to_text(result: AuditResult, access: WriteAccess | None = None) -> str:
    mark = f"  ({NEEDS_ROOT})" if access is not None and not access.allowed else ""
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
                lines.append(f"    $ {cmd}{mark}")
        for rec in assessment.records:
            # an optional record (DMARC's step back, an SPF draft) is offered, never a plain "publish"
            verb = "optional, see the note:" if rec.optional else "publish"
            lines.append(f"    {verb} {rec.name} {rec.rtype} {rec.value}")
            if rec.note:
                lines.append(f"      note: {rec.note}")
    lines.append(f"\nOverall: {result.status}")
    if mark:
        lines.append(access.message)
    return "\n".join(lines) + "\n"
