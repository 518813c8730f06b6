"""`smewizard apply`: non-interactive apply of a plan file or of one step's proposed changes,
with the same preview, confirmation, audit log, journal and undo as the app.

    smewizard apply --plan FILE [--yes] [--dry-run]
    smewizard apply --step dkim [--domain example.com] [--yes] [--dry-run] [--save-plan FILE]
    smewizard apply --resume [--yes]

Exit: 0 applied (or nothing to do, or dry run), 1 an action failed or the admin declined,
2 usage or invalid input (a bad plan changes nothing), 3 read-only (needs root),
4 an interrupted run must be resumed or undone first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from smewizard.actions.apply import ApplyReport, format_preview, preview, resume_run
from smewizard.actions.base import Action
from smewizard.actions.journal import interrupted_runs, interruption_notice
from smewizard.actions.plan import PlanError, dump_plan, load_plan_text
from smewizard.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    add_target_options,
    build_context,
    error,
)
from smewizard.readonly import write_access
from smewizard.steps.registry import STEP_INFO

EXIT_READ_ONLY = 3
EXIT_INTERRUPTED = 4


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "apply",
        help="apply a plan file or one step's proposed changes (preview, confirm, audit, undo)",
        description="Apply server changes without the UI: prints the exact commands first, asks "
        "for confirmation unless --yes, records every change for `smewizard undo`.",
    )
    add_target_options(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--plan", metavar="FILE", help="a plan file (docs/safe-apply.md) or `check --json` output")
    what.add_argument("--step", choices=[i.key for i in STEP_INFO], help="apply this step's proposed changes")
    what.add_argument("--resume", action="store_true", help="continue the interrupted run")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--save-plan", metavar="FILE", help="with --step: write the plan to FILE instead of applying")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.save_plan and not args.step:
        error("--save-plan goes with --step")
        return EXIT_USAGE
    actions = _plan_actions(args) if args.plan else None  # a bad plan fails before any I/O
    ctx = build_context(args)
    host = ctx.host
    if args.resume:
        return _resume(host, args)
    if actions is None:
        actions = _step_actions(ctx, args.step)
    if args.save_plan:
        return _save_plan(actions, args.save_plan, host.description)
    notice = interruption_notice(host)
    if notice and not args.dry_run:
        print(notice, file=sys.stderr)
        return EXIT_INTERRUPTED
    access = write_access(host)
    print(format_preview(preview(host, actions, access), dry_run=args.dry_run), end="")
    if not actions or args.dry_run:
        if args.dry_run and actions:
            print("Dry run: nothing was changed.")
        return EXIT_OK
    if not access.allowed:
        print(access.message, file=sys.stderr)
        return EXIT_READ_ONLY
    if not confirm(sum(1 for a in actions if a.changes_server), args.yes):
        return EXIT_FAIL if sys.stdin.isatty() or args.yes else EXIT_USAGE
    from smewizard.actions.apply import apply_actions

    return report_result(apply_actions(host, actions, on_progress=progress, on_output=output))


def _plan_actions(args: argparse.Namespace) -> list[Action]:
    path = Path(args.plan)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read plan {args.plan}: {getattr(exc, 'strerror', None) or exc}") from None
    return load_plan_text(text)


def _step_actions(ctx, step: str) -> list[Action]:
    from smewizard.engine import run_audit

    result = asyncio.run(run_audit(ctx, [step]))
    assessment = result.assessments.get(step)
    if assessment is None:
        raise PlanError(f"step {step} is not available in this version")
    wanted = set(ctx.only_domains)
    return [
        a for a in assessment.actions
        if not wanted or getattr(a, "domain", None) in wanted or getattr(a, "domain", None) is None
    ]


def _save_plan(actions: list[Action], path: str, target: str) -> int:
    text = dump_plan(actions, target=target)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"Saved {len(actions)} action(s) to {path}; apply with `smewizard apply --plan {path}`.")
    return EXIT_OK


def _resume(host, args: argparse.Namespace) -> int:
    runs = interrupted_runs(host)
    if not runs:
        print("No interrupted run to continue.")
        return EXIT_OK
    notice = interruption_notice(host)
    print(notice)
    access = write_access(host)
    if not access.allowed:
        print(access.message, file=sys.stderr)
        return EXIT_READ_ONLY
    if args.dry_run:
        print("Dry run: nothing was changed.")
        return EXIT_OK
    if not confirm(None, args.yes, question="Continue the interrupted run?"):
        return EXIT_FAIL if sys.stdin.isatty() or args.yes else EXIT_USAGE
    return report_result(resume_run(host, runs[-1], on_progress=progress, on_output=output))


def confirm(count: int | None, yes: bool, question: str | None = None) -> bool:
    """--yes, or an interactive "y"; without a terminal and without --yes: refuse."""
    if yes:
        return True
    if not sys.stdin.isatty():
        error("refusing to change the server without confirmation: no terminal to ask on; "
              "review the preview above and re-run with --yes")
        return False
    question = question or f"Apply {count} change(s) to the server?"
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("Nothing was changed.")
    return False


def progress(index: int, total: int, action: Action) -> None:
    print(f"[{index + 1}/{total}] {action.summary()}", flush=True)


def output(action: Action, line: str) -> None:
    print(f"    | {line}", flush=True)


def report_result(report: ApplyReport) -> int:
    if report.refused:
        print(report.refused, file=sys.stderr)
        return EXIT_READ_ONLY if report.read_only else EXIT_INTERRUPTED
    for outcome in report.outcomes:
        if outcome.skipped:
            print(f"  skipped (already in place): {outcome.action.summary()}")
        elif not outcome.ok:
            print(f"  FAILED: {outcome.action.summary()}: {outcome.error}", file=sys.stderr)
    done = sum(1 for o in report.outcomes if o.ok)
    print(f"Run {report.run_id}: {done} change(s) applied{'' if report.ok else ', stopped at a failure'}.")
    if done:
        print(f"Undo it with `smewizard undo {report.run_id}` (or `smewizard undo --last`).")
    return EXIT_OK if report.ok else EXIT_FAIL
