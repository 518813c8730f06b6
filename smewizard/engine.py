"""Run a whole audit: server facts once, then every step's probe concurrently, then assess."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smewizard.model import Assessment, Record, Status, worst
from smewizard.steps.base import Context, ServerFacts, Step
from smewizard.steps.registry import available_steps
from smewizard.steps.server import probe_server


@dataclass
class AuditResult:
    server: ServerFacts
    assessments: dict[str, Assessment] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return worst([a.status for a in self.assessments.values()])

    def records_to_publish(self, domain: str | None = None) -> list[Record]:
        """Every step's proposed records (for one domain, or all), in step order, without
        duplicates and without the optional ones (offered only for the case their note names)."""
        seen: set[tuple[str, str, str]] = set()
        out = []
        for assessment in self.assessments.values():
            for record in assessment.records:
                if record.optional or (domain is not None and record.domain not in (domain, None)):
                    continue
                key = (record.name.lower(), record.rtype, record.value)
                if key not in seen:
                    seen.add(key)
                    out.append(record)
        return out


async def run_step(ctx: Context, step: Step, server: ServerFacts) -> tuple[Any, Assessment]:
    facts = await step.probe(ctx, server)
    return facts, step.assess(facts)


def run_context(ctx: Context) -> Context:
    """The context for one audit or probe run: its DNS answers are shared by every step and
    every SPF evaluation of the run, and forgotten after it (a fresh one per run, so a
    re-verification after publishing never sees an answer from before); its time is the
    clock at the start of the run unless the context pins one."""
    return dataclasses.replace(ctx, dns=ctx.dns.with_run_cache(), now=ctx.clock())


async def run_audit(ctx: Context, only: Iterable[str] | None = None) -> AuditResult:
    wanted = set(only) if only else None
    steps = [s for s in available_steps() if wanted is None or s.key in wanted]
    ctx = run_context(ctx)
    server = await probe_server(ctx)
    outcomes = await asyncio.gather(*(run_step(ctx, s, server) for s in steps))
    result = AuditResult(server=server)
    for step, (facts, assessment) in zip(steps, outcomes, strict=True):
        result.facts[step.key] = facts
        result.assessments[step.key] = assessment
    return result
