"""The wizard's steps in the order an admin works through them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from smewizard.steps.base import Step


@dataclass(frozen=True)
class StepInfo:
    key: str
    title: str
    parts: tuple[str, ...]
    module: str


STEP_INFO: tuple[StepInfo, ...] = (
    StepInfo("spf", "SPF", ("Part 1",), "smewizard.steps.spf"),
    StepInfo("dkim", "DKIM", ("Part 2",), "smewizard.steps.dkim"),
    StepInfo("dmarc", "DMARC", ("Part 3", "Part 10"), "smewizard.steps.dmarc"),
    StepInfo("helo", "HELO & PTR", ("Part 4",), "smewizard.steps.helo"),
    StepInfo("bounce", "Bounces & junkmail", ("Part 5",), "smewizard.steps.bounce"),
    StepInfo("spamassassin", "SpamAssassin", ("Part 6", "Part 7", "Part 8", "Part 9"), "smewizard.steps.spamassassin"),
    StepInfo("verify", "Test & logs", ("Part 10", "Part 11"), "smewizard.steps.verify"),
)


def info(key: str) -> StepInfo:
    for item in STEP_INFO:
        if item.key == key:
            return item
    raise KeyError(key)


def load_step(item: StepInfo) -> Step | None:
    """The step's implementation, or None while it is not built yet."""
    try:
        module = importlib.import_module(item.module)
    except ModuleNotFoundError as exc:
        if exc.name == item.module:
            return None
        raise
    return getattr(module, "STEP", None)


def available_steps() -> list[Step]:
    return [s for s in (load_step(i) for i in STEP_INFO) if s is not None]
