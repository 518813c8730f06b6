"""`smewizard spamassassin`: show and edit TagLevel/RejectLevel and the envelope blacklist.

Without --yes it prints what it would run; with --yes it applies through the safe-apply
executor. Every value is validated before anything runs: a malformed entry changes nothing."""

from __future__ import annotations

import argparse
import sys

from smewizard.actions.apply import apply_actions
from smewizard.actions.base import Action, ActionError
from smewizard.commands.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, error, make_host
from smewizard.sme.config import SmeConfig
from smewizard.steps.spamassassin import (
    blacklist_actions,
    effective_thresholds,
    probe_files,
    threshold_actions,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spamassassin",
        help="show or change SpamAssassin thresholds and the envelope blacklist (guide Part 6)",
        description="Show SpamAssassin TagLevel/RejectLevel and the envelope blacklist; change them "
        "with --tag/--reject and --blacklist-add/--blacklist-remove (applied only with --yes).",
    )
    p.add_argument("--root", metavar="DIR", help="treat DIR as the server's / (a simulated SME root)")
    p.add_argument("--tag", metavar="SCORE", help="TagLevel: score at which mail is tagged as spam")
    p.add_argument("--reject", metavar="SCORE", help="RejectLevel: score refused at SMTP time; 0 = never")
    p.add_argument("--blacklist-add", metavar="ENTRY", action="append", default=[],
                   help="envelope sender to refuse: @domain or user@domain (repeatable)")
    p.add_argument("--blacklist-remove", metavar="ENTRY", action="append", default=[],
                   help="remove an envelope blacklist entry (repeatable)")
    p.add_argument("--yes", action="store_true", help="apply the changes (otherwise only show them)")
    p.set_defaults(func=run)


def plan(args: argparse.Namespace, host) -> list[Action]:
    """All actions for the requested edits; raises InvalidValue/ActionError before any change."""
    config = SmeConfig.load(host)
    actions: list[Action] = []
    if args.tag is not None or args.reject is not None:
        current = config.spamassassin
        levels, _ = effective_thresholds(current)
        tag = args.tag if args.tag is not None else (f"{levels.tag:g}" if levels else "")
        reject = args.reject if args.reject is not None else (f"{levels.reject:g}" if levels else "")
        actions += threshold_actions(tag, reject, current)
    if args.blacklist_add or args.blacklist_remove:
        mechanism = probe_files(host)["mechanism"]
        for entry in args.blacklist_add:
            actions += blacklist_actions(entry, add=True, mechanism=mechanism)[:-1]
        for entry in args.blacklist_remove:
            actions += blacklist_actions(entry, add=False, mechanism=mechanism)[:-1]
        from smewizard.actions.base import SignalEvent

        actions.append(SignalEvent("email-update", step="spamassassin"))
    return _dedupe_events(actions)


def _dedupe_events(actions: list[Action]) -> list[Action]:
    """One signal-event at the end is enough."""
    events = [a for a in actions if type(a).__name__ == "SignalEvent"]
    rest = [a for a in actions if type(a).__name__ != "SignalEvent"]
    return rest + events[-1:] if rest else []


def show(host) -> str:
    config = SmeConfig.load(host)
    props = config.spamassassin
    levels, problem = effective_thresholds(props)
    files = probe_files(host)
    lines = [
        f"Sensitivity: {props.get('Sensitivity') or 'medium (default)'}",
        f"TagLevel:    {props.get('TagLevel') or '-'}",
        f"RejectLevel: {props.get('RejectLevel') or '-'} (0 = never reject)",
        "Effective:   " + (problem if problem else f"tag {levels.tag:g}, reject {'never' if not levels.reject else f'{levels.reject:g}'}"),
        f"Envelope blacklist ({'smeserver-wbl db' if files['mechanism'] == 'wbl' else 'generated control file'}):",
    ]
    lines += [f"  {e}" for e in files["blacklist"]] or ["  (empty)"]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    host = make_host(args)
    editing = args.tag is not None or args.reject is not None or args.blacklist_add or args.blacklist_remove
    if not editing:
        sys.stdout.write(show(host))
        return EXIT_OK
    try:
        actions = plan(args, host)
    except ActionError as exc:
        error(str(exc))
        return EXIT_USAGE
    if not actions:
        print("Nothing to change.")
        return EXIT_OK
    for action in actions:
        for cmd in action.shell():
            print(("" if args.yes else "would run: ") + cmd)
    if not args.yes:
        print("Re-run with --yes to apply.")
        return EXIT_OK
    report = apply_actions(host, actions)
    for outcome in report.outcomes:
        if not outcome.ok:
            error(f"{outcome.action.summary()}: {outcome.error}")
            return EXIT_FAIL
    print(f"Applied {len(report.outcomes)} change(s) (run {report.run_id}).")
    return EXIT_OK
