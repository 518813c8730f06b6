"""What a step view is built from: one immutable snapshot of a step's latest probe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smewizard.model import Assessment, Status
from smewizard.steps.base import ServerFacts
from smewizard.steps.registry import StepInfo


@dataclass(frozen=True)
class StepSnapshot:
    """Everything a step view or a step's state panel may show.

    `assessment` is already narrowed to `domain` (None = all domains); `facts` is the step's
    whole Facts object (a panel narrows it with `domain` itself). `facts`/`assessment` are None
    before the first probe finishes, or when the step's module is not built yet (`available`).
    """

    info: StepInfo
    available: bool
    probing: bool = False
    facts: Any | None = None
    assessment: Assessment | None = None
    server: ServerFacts | None = None
    domain: str | None = None
    can_publish: bool = False  # demo mode: records can be published in the embedded DNS
    error: str | None = None  # the probe itself failed (shown; the status becomes unknown)

    @property
    def key(self) -> str:
        return self.info.key

    @property
    def status(self) -> Status | None:
        if self.error is not None:
            return Status.UNKNOWN
        return self.assessment.status if self.assessment is not None else None

    def domains(self) -> tuple[str, ...]:
        """The hosted domains this view is about."""
        if self.server is None:
            return ()
        if self.domain is not None:
            return (self.domain,)
        return self.server.domains
