"""SPF state panel: per domain, the published record(s), each sending IP's result, lookups."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from smewizard.mail.spf import MAX_DNS_LOOKUPS, MAX_VOID_LOOKUPS
from smewizard.ui.snapshot import StepSnapshot

# pyspf result → how it looks for *our* servers: anything but pass means mail may be refused.
RESULT_CLASS = {
    "pass": "-pass",
    "fail": "-fail",
    "softfail": "-fail",
    "permerror": "-fail",
    "neutral": "-warn",
    "none": "-warn",
    "temperror": "-unknown",
}


def published_lines(d) -> list[tuple[str, str]]:
    """(text, status class) lines describing what is published at the domain."""
    if d.invalid_name:
        return [(f"not a valid domain name: {d.invalid_name}", "-fail")]
    if d.txt is None or not d.txt.ok:
        if d.txt is not None and d.txt.absent:
            return [("no SPF record published", "-fail")]
        why = d.txt.describe() if d.txt is not None else "not looked up"
        return [(f"could not read the TXT records: {why}", "-unknown")]
    if not d.records:
        return [("no SPF record published", "-fail")]
    cls = "-fail" if len(d.records) > 1 or d.syntax_error else ""
    lines = [(f"published: {record}", cls) for record in d.records]
    if d.syntax_error:
        lines.append((f"syntax error: {d.syntax_error}", "-fail"))
    return lines


def lookup_line(d) -> tuple[str, str] | None:
    count = d.lookups
    if count is None:
        return None
    at_least = "at least " if count.incomplete else ""
    cls = "-fail" if count.total > MAX_DNS_LOOKUPS or count.void > MAX_VOID_LOOKUPS else "-pass"
    if count.incomplete and cls == "-pass":
        cls = "-unknown"
    return (
        f"DNS lookups {at_least}{count.total}/{MAX_DNS_LOOKUPS}, "
        f"void lookups {count.void}/{MAX_VOID_LOOKUPS}",
        cls,
    )


def evaluation_lines(facts, d) -> list[tuple[str, str]]:
    width = max((len(e.ip) for e in d.evaluations), default=0)
    return [
        (f"{e.ip.ljust(width)}  {facts.role(e.ip):<6}  {e.result}", RESULT_CLASS.get(e.result, "-unknown"))
        for e in d.evaluations
    ]


def sender_lines(facts) -> list[tuple[str, str]]:
    lines = [(f"{s.address} ({s.role}: {s.source})", "") for s in facts.senders]
    if facts.public_ip_unknown:
        lines.append((f"public IP unknown: {facts.public_ip_unknown}", "-unknown"))
    if facts.relay_unknown:
        lines.append((f"relay IPs unknown: {facts.relay_unknown}", "-unknown"))
    for network in facts.networks:
        lines.append((f"{network} (allocated network, --spf-network)", ""))
    return lines


def _row(text: str, cls: str) -> Static:
    return Static(Content(text), classes=f"state-row {cls}".strip())


class StatePanel(Vertical):
    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__(classes="spf-panel")
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        facts = self.snapshot.facts
        yield Static("Sending IPs that must pass SPF:", classes="state-label")
        for text, cls in sender_lines(facts) or [("none known", "-unknown")]:
            yield _row(text, cls)
        wanted = set(self.snapshot.domains())
        for d in facts.domains:
            if d.domain not in wanted:
                continue
            yield Static(Content(d.domain), classes="spf-domain")
            for text, cls in published_lines(d):
                yield _row(text, cls)
            for text, cls in evaluation_lines(facts, d):
                yield _row(text, cls)
            line = lookup_line(d)
            if line is not None:
                yield _row(*line)
