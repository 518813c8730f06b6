"""The preview lists the commands in exactly the order apply runs them: grouping by step and
domain labels runs of commands but never moves one (the demo's DKIM plan ends with a
server-wide `signal-event email-update` after the per-domain key work)."""

from __future__ import annotations

import asyncio

from smewizard.actions.apply import apply_actions, format_preview, group_preview, preview
from smewizard.engine import run_audit
from smewizard.steps.base import Context


def demo_actions(sim, dns, step: str = "dkim"):
    result = asyncio.run(run_audit(Context(host=sim.host(), dns=dns), [step]))
    actions = result.assessments[step].actions
    assert len(actions) > 2
    return actions


def executed_order(host, actions) -> list[str]:
    ran: list[str] = []
    report = apply_actions(host, actions, on_progress=lambda i, n, a: ran.append(a.summary()))
    assert report.ok, report
    return ran


def test_grouped_preview_is_in_execution_order(sim_dns):
    sim, dns = sim_dns("demo")
    actions = demo_actions(sim, dns)
    items = preview(sim.host(), actions)
    shown = [item.action.summary() for _, _, group in group_preview(items) for item in group]
    assert shown == executed_order(sim.host(), actions)


def test_printed_preview_numbers_commands_in_execution_order(sim_dns):
    sim, dns = sim_dns("demo")
    actions = demo_actions(sim, dns)
    text = format_preview(preview(sim.host(), actions))
    positions = [text.index(f"{n}. {a.summary()}") for n, a in enumerate(actions, start=1)]
    assert positions == sorted(positions)
    # email-update runs after the per-domain key copy, and is shown after it, labelled server-wide
    email_update = text.index("signal-event email-update")
    assert text.index("Copy the DKIM key for example.com") < email_update
    assert text.rfind("[dkim] server-wide", 0, email_update) > text.index("Copy the DKIM key")
