"""`smewizard undo`: put back what an apply changed (db props, archived files), then
`signal-event email-update`.

    smewizard undo --list
    smewizard undo [--last | RUN_ID] [--dry-run] [--yes]

Exit: 0 undone (or dry run), 1 an undo action failed or the admin declined, 2 usage, unknown run
or a run that is not undone (already undone, or itself an undo: re-apply its steps instead),
3 read-only (needs root).
"""

from __future__ import annotations

import argparse
import sys

from smewizard.actions.apply import format_preview, preview
from smewizard.actions.journal import list_runs
from smewizard.actions.undo import find_run as find_run_to_undo
from smewizard.actions.undo import pending_actions, plan_undo, undo_run
from smewizard.commands.apply import EXIT_READ_ONLY, confirm, output, progress, report_result
from smewizard.commands.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    add_target_options,
    build_context,
)
from smewizard.readonly import write_access


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "undo",
        help="undo an earlier apply (restore db values and archived files, re-run email-update)",
        description="Restore what a run changed, newest change first, from its journal.",
    )
    add_target_options(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("run_id", nargs="?", metavar="RUN_ID", help="the run to undo (see --list)")
    which.add_argument("--last", action="store_true", help="the latest run not undone yet (default)")
    which.add_argument("--list", action="store_true", help="list the runs recorded on the server")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ctx = build_context(args)
    host = ctx.host
    if args.list:
        runs = list_runs(host)
        print("\n".join(r.describe() for r in runs) if runs else "No runs recorded on this server.")
        return EXIT_OK
    target = find_run_to_undo(host, args.run_id)
    plan = plan_undo(host, target)
    print(f"Undo run {target.describe()}")
    for summary in plan.not_undoable:
        print(f"  cannot be undone (no undo data recorded): {summary}")
    for summary in plan.db_only:
        print(f"  only its db changes are undone (files it changed stay): {summary}")
    shown = pending_actions(host, plan)
    access = write_access(host)
    print(format_preview(preview(host, shown, access), dry_run=args.dry_run, undoing=True), end="")
    if args.dry_run:
        print("Dry run: nothing was changed.")
        return EXIT_OK
    if not access.allowed:
        print(access.message, file=sys.stderr)
        return EXIT_READ_ONLY
    if not confirm(len(shown), args.yes, question=f"Undo {len(shown)} change(s)?"):
        return EXIT_FAIL if sys.stdin.isatty() or args.yes else EXIT_USAGE
    return report_result(undo_run(host, plan, on_progress=progress, on_output=output))
