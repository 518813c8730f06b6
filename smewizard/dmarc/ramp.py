"""The policy ramp none → quarantine → reject, with evidence.

Stages (RFC 9989 removed `pct`, so there are no percentage steps):

    none → [quarantine-test] → quarantine → [reject-test] → reject

The bracketed stages are optional: the same policy with DMARC `t=y` (policy testing), where
receivers apply one level less (reject as quarantine, quarantine as none) but report as if
enforcing. That is not DKIM's `t=y`, which marks a *key* as being tested.

When each stage was first observed published is kept on the server in a small JSON file
(`STATE_PATH`), which a wizard upgrade does not touch and SME's backup includes. Probing only
reads it; the file is written by the `RecordStageObserved` action, applied like any other
server change (audit log, preview). Until then, the earliest aggregate report showing the
policy stands in as evidence of when it was published.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smewizard import validate
from smewizard.actions.base import Action, ActionError
from smewizard.dmarc.summary import DomainSummary, SourceSummary

STATE_PATH = "/home/e-smith/db/smewizard-dmarc.json"
STATE_VERSION = 1
HISTORY_KEEP = 50

BASIC_STAGES = ("none", "quarantine", "reject")
TEST_STAGES = ("none", "quarantine-test", "quarantine", "reject-test", "reject")
STAGE_POLICY = {
    "none": ("none", False),
    "quarantine-test": ("quarantine", True),
    "quarantine": ("quarantine", False),
    "reject-test": ("reject", True),
    "reject": ("reject", False),
}
STAGE_LABEL = {
    "none": "p=none (monitoring)",
    "quarantine-test": "p=quarantine with t=y (policy testing: receivers still deliver)",
    "quarantine": "p=quarantine (failures go to spam)",
    "reject-test": "p=reject with t=y (policy testing: receivers quarantine instead)",
    "reject": "p=reject (failures refused)",
}


@dataclass(frozen=True)
class RampSettings:
    min_days: int = 14
    threshold: float = 0.98  # share of legitimate mail that must pass DMARC (aligned SPF or DKIM)
    min_messages: int = 20  # below this, the reports do not show enough to judge
    test_stages: bool = False  # go through the t=y stages

    def __post_init__(self) -> None:
        if not 1 <= self.min_days <= 365:
            raise validate.InvalidValue("minimum days at a stage must be between 1 and 365")
        if not 0.5 <= self.threshold <= 1.0:
            raise validate.InvalidValue("the pass-rate threshold must be between 50 % and 100 %")

    @property
    def stages(self) -> tuple[str, ...]:
        return TEST_STAGES if self.test_stages else BASIC_STAGES


def stage_for(policy: str, testing: bool) -> str:
    if policy == "none":
        return "none"
    return f"{policy}-test" if testing else policy


def next_stage(stage: str, settings: RampSettings) -> str | None:
    order = settings.stages
    if stage not in order:  # a t=y stage while test stages are off: go to its full policy
        return STAGE_POLICY[stage][0]
    i = order.index(stage)
    return order[i + 1] if i + 1 < len(order) else None


def previous_stage(stage: str, settings: RampSettings) -> str | None:
    order = TEST_STAGES if stage not in settings.stages else settings.stages
    i = order.index(stage)
    return order[i - 1] if i > 0 else None


# ------------------------------------------------------------------ state file
@dataclass(frozen=True)
class StageRecord:
    stage: str
    since: datetime
    until: datetime | None = None


@dataclass(frozen=True)
class DomainRamp:
    domain: str
    current: StageRecord | None
    history: tuple[StageRecord, ...] = ()


@dataclass(frozen=True)
class RampState:
    domains: dict[str, DomainRamp]
    problem: str | None = None  # the file exists but could not be read
    settings: RampSettings | None = None  # the admin's own thresholds (`smewizard dmarc ramp`)

    def get(self, domain: str) -> DomainRamp | None:
        return self.domains.get(domain)


def parse_state(text: str | None) -> RampState:
    if not text:
        return RampState({})
    try:
        raw = json.loads(text)
        domains = {}
        for name, item in raw.get("domains", {}).items():
            cur = item.get("current")
            domains[name] = DomainRamp(
                name,
                _stage_record(cur) if cur else None,
                tuple(_stage_record(h) for h in item.get("history", [])),
            )
        raw_settings = raw.get("settings")
        settings = RampSettings(
            min_days=int(raw_settings.get("min_days", 14)),
            threshold=float(raw_settings.get("threshold", 0.98)),
            test_stages=bool(raw_settings.get("test_stages", False)),
        ) if raw_settings else None
        return RampState(domains, settings=settings)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return RampState({}, problem=f"{STATE_PATH} is damaged ({exc}); days at stage start again")


def _stage_record(raw: dict) -> StageRecord:
    stage = raw["stage"]
    if stage not in STAGE_POLICY:
        raise ValueError(f"unknown stage {stage!r}")
    until = raw.get("until")
    return StageRecord(stage, datetime.fromisoformat(raw["since"]), datetime.fromisoformat(until) if until else None)


def dump_state(state: RampState) -> str:
    def rec(r: StageRecord) -> dict:
        out = {"stage": r.stage, "since": r.since.isoformat()}
        if r.until:
            out["until"] = r.until.isoformat()
        return out

    out: dict = {
        "version": STATE_VERSION,
        "note": "smewizard: when each DMARC policy stage was first seen published (do not edit)",
    }
    if state.settings:
        out["settings"] = {"min_days": state.settings.min_days, "threshold": state.settings.threshold,
                           "test_stages": state.settings.test_stages}
    out["domains"] = {
        name: {"current": rec(d.current) if d.current else None, "history": [rec(h) for h in d.history]}
        for name, d in sorted(state.domains.items())
    }
    return json.dumps(out, indent=2) + "\n"


def observe(state: RampState, domain: str, stage: str, when: datetime) -> RampState:
    """The state after seeing `stage` published for `domain` at `when` (unchanged if it is the
    recorded stage already)."""
    old = state.get(domain)
    if old and old.current and old.current.stage == stage:
        return state
    history = old.history if old else ()
    if old and old.current:
        history = (*history, StageRecord(old.current.stage, old.current.since, when))[-HISTORY_KEEP:]
    domains = dict(state.domains)
    domains[domain] = DomainRamp(domain, StageRecord(stage, when), history)
    return RampState(domains, settings=state.settings)


def write_settings(host, settings: RampSettings) -> RampState:
    """Store the admin's ramp thresholds in the state file (an explicit `smewizard dmarc ramp
    --min-days …` request); the recorded stages are kept."""
    state = read_state(host)
    if state.problem:
        raise ActionError(state.problem + "; move the file away to start again")
    new = RampState(state.domains, settings=settings)
    host.write_atomic(STATE_PATH, dump_state(new).encode("utf-8"), mode=0o640)
    return new


def read_state(host) -> RampState:
    """Read-only: used by the probe."""
    if not host.exists(STATE_PATH):
        return RampState({})
    return parse_state(host.read_text(STATE_PATH, limit=1024 * 1024))


@dataclass(frozen=True)
class RecordStageObserved(Action):
    """Write down that `stage` is now published for `domain` (starts its day count)."""

    domain: str
    stage: str
    observed_at: datetime
    step: str = "dmarc"

    def __post_init__(self) -> None:
        validate.domain_name(self.domain)
        if self.stage not in STAGE_POLICY:
            raise validate.InvalidValue(f"unknown DMARC ramp stage {self.stage!r}")

    def summary(self) -> str:
        return f"Record that {self.domain} publishes {STAGE_LABEL[self.stage]} since {self.observed_at:%Y-%m-%d} (in {STATE_PATH})"

    def commands(self) -> list[list[str]]:
        # Not a shell command: the wizard writes the file itself (atomically). Shown for review.
        return [["smewizard-internal", "write", STATE_PATH, f"{self.domain}={self.stage}@{self.observed_at:%Y-%m-%dT%H:%M:%SZ}"]]

    def shell(self) -> list[str]:
        return [f"(written by smewizard, no command) {STATE_PATH}: {self.domain} = {self.stage} since {self.observed_at:%Y-%m-%d %H:%M} UTC"]

    def current(self, host) -> str | None:
        rec = read_state(host).get(self.domain)
        if rec and rec.current:
            return f"{rec.current.stage} since {rec.current.since:%Y-%m-%d}"
        return None

    def target_value(self) -> str | None:
        return f"{self.stage} since {self.observed_at:%Y-%m-%d}"

    def execute(self, host) -> str:
        state = read_state(host)
        if state.problem:
            raise ActionError(state.problem + "; move the file away to start again")
        new = observe(state, self.domain, self.stage, self.observed_at)
        host.write_atomic(STATE_PATH, dump_state(new).encode("utf-8"), mode=0o640)
        return f"recorded {self.domain}: {self.stage}"


# ------------------------------------------------------------------ verdict
@dataclass(frozen=True)
class RampVerdict:
    domain: str
    stage: str
    since: datetime | None
    since_source: str  # "recorded", "reports" or "" (unknown)
    days: int | None
    next_stage: str | None
    previous_stage: str | None
    ready: bool
    reasons: tuple[str, ...]
    legit_messages: int = 0
    legit_passed: int = 0
    hurt: tuple[SourceSummary, ...] = ()  # legitimate sources below the threshold
    unrecognised: tuple[SourceSummary, ...] = ()  # failing sources nobody vouches for
    settings: RampSettings = RampSettings()

    @property
    def legit_rate(self) -> float | None:
        return self.legit_passed / self.legit_messages if self.legit_messages else None


def stage_since(current: str, recorded: DomainRamp | None, summary: DomainSummary | None) -> tuple[datetime | None, str]:
    """When the current stage started: the recorded observation, or else the earliest report
    showing it after the last report showing another stage."""
    candidates: list[tuple[datetime, str]] = []
    if recorded and recorded.current and recorded.current.stage == current:
        candidates.append((recorded.current.since, "recorded"))
    if summary:
        mine = [p for p in summary.policies if p.stage == current]
        others = [p.last for p in summary.policies if p.stage != current]
        if mine:
            start = mine[0].first
            if others and max(others) > start:
                start = max(others)
            candidates.append((start, "reports"))
    if not candidates:
        return None, ""
    return min(candidates)


def is_legitimate(source: SourceSummary, own_ips: Iterable[str] = ()) -> bool:
    """A source we believe sends for the domain: its IP is in the domain's SPF or is the
    server/relay, it passed DMARC at least sometimes, or it carried a valid DKIM signature."""
    return bool(source.in_spf or source.ip in set(own_ips) or source.passed or source.dkim_auth_pass)


def judge(
    domain: str,
    stage: str,
    now: datetime,
    settings: RampSettings,
    recorded: DomainRamp | None,
    summary: DomainSummary | None,
    own_ips: Iterable[str] = (),
) -> RampVerdict:
    """Whether to recommend the next stage: (a) `min_days` at the current stage AND (b) report
    evidence, since the stage began, that legitimate sources pass aligned SPF or DKIM at or
    above the threshold. Stepping back is always possible."""
    since, source = stage_since(stage, recorded, summary)
    days = max((now - since).days, 0) if since else None
    nxt, prev = next_stage(stage, settings), previous_stage(stage, settings)
    own = tuple(own_ips)
    sources = summary.sources if summary else ()
    legit = [s for s in sources if is_legitimate(s, own)]
    unrecognised = tuple(s for s in sources if not is_legitimate(s, own))
    hurt = tuple(sorted((s for s in legit if s.pass_rate < settings.threshold), key=lambda s: -s.failed))
    legit_messages = sum(s.messages for s in legit)
    legit_passed = sum(s.passed for s in legit)
    reasons: list[str] = []
    if nxt is None:
        return RampVerdict(domain, stage, since, source, days, None, prev, False,
                           ("reject is the last stage: spoofed mail is refused",),
                           legit_messages, legit_passed, hurt, unrecognised, settings)
    time_ok = days is not None and days >= settings.min_days
    if days is None:
        reasons.append("when this policy was published is not known yet (no recorded observation, no report showing it)")
    elif not time_ok:
        wait = settings.min_days - days
        reasons.append(f"{days} of {settings.min_days} days at this stage: wait {wait} more day{'s' if wait != 1 else ''}")
    else:
        reasons.append(f"{days} days at this stage (at least {settings.min_days} needed)")
    evidence_ok = False
    if legit_messages < settings.min_messages:
        reasons.append(
            f"reports since the stage began show {legit_messages} message(s) from legitimate sources; "
            f"at least {settings.min_messages} are needed to judge"
        )
    else:
        rate = legit_passed / legit_messages
        evidence_ok = rate >= settings.threshold
        verb = "meets" if evidence_ok else "is below"
        reasons.append(
            f"legitimate sources pass DMARC for {rate:.1%} of {legit_messages} messages, which {verb} "
            f"the {settings.threshold:.0%} threshold"
        )
    if hurt:
        names = ", ".join(f"{s.ip} ({s.pass_rate:.0%} of {s.messages})" for s in hurt[:5])
        reasons.append(f"would be hurt by {STAGE_LABEL[nxt]}: {names}")
    ready = time_ok and evidence_ok
    return RampVerdict(domain, stage, since, source, days, nxt, prev, ready, tuple(reasons),
                       legit_messages, legit_passed, hurt, unrecognised, settings)


def evidence_since(since: datetime | None, now: datetime, settings: RampSettings) -> datetime:
    """Reports count as evidence from the stage's start (or the last min_days when unknown)."""
    return since if since else now.astimezone(UTC) - timedelta(days=settings.min_days)
