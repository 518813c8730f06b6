"""DKIM state panel: per domain, which key signs, the selector and key files, the template
links, what qpsmtpd will log, the published record and its real verification, the rotation
order; plus a selector field with Generate / Start rotation buttons (confirmed apply).

Built only from the step's facts (no I/O here). Nothing derived from a private key except its
public half ever reaches this panel: the facts do not hold key bytes.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from smewizard import validate
from smewizard.mail import dkim as mk
from smewizard.model import Status
from smewizard.steps import dkim as step
from smewizard.ui.snapshot import StepSnapshot

OUTCOME_TEXT = {
    step.PluginOutcome.SIGN: ("will sign: `dkim: pass, we signed the message`", Status.PASS),
    step.PluginOutcome.SKIP: ("will NOT sign: `dkim: skip, DKIM not configured`", Status.FAIL),
    step.PluginOutcome.KEY_ERROR: ("will NOT sign: `error, unable to read dkim key`", Status.FAIL),
    step.PluginOutcome.BAD_SELECTOR: ("signs with a broken selector: no record can match",
                                      Status.FAIL),
    step.PluginOutcome.UNKNOWN: ("signing unknown: the links cannot be read (re-run as root)",
                                 Status.UNKNOWN),
}

PROOF_TEXT = {
    mk.ProofOutcome.VERIFIED: ("verified: a message signed with the server's key verifies "
                               "against the published record", Status.PASS),
    mk.ProofOutcome.MISMATCH: ("does NOT match the server's key", Status.FAIL),
    mk.ProofOutcome.NO_RECORD: ("not published", Status.FAIL),
    mk.ProofOutcome.BAD_RECORD: ("published but not a usable DKIM key", Status.FAIL),
    mk.ProofOutcome.DNS_FAILED: ("unknown: the DNS lookup failed", Status.UNKNOWN),
    mk.ProofOutcome.SIGN_FAILED: ("could not sign with the server's key", Status.FAIL),
}


def _row(text: str, status: Status | None = None, classes: str = "state-row") -> Static:
    extra = f" -{status.value}" if status is not None else ""
    return Static(Content(text), classes=classes + extra)


def _key_text(k: step.KeyDirFacts) -> tuple[str, Status]:
    if k.denied:
        return f"key: cannot inspect ({k.denied})", Status.UNKNOWN
    if k.private_stat is None:
        return "key: missing (no `default` file)", Status.FAIL
    st = k.private_stat
    owner = f"{st.owner}:{st.group} {st.mode:04o}"
    if k.key is None or not k.key.ok:
        return f"key: unusable ({k.key.error if k.key else 'unreadable'}), {owner}", Status.FAIL
    good_perm = st.mode == mk.KEY_MODE and st.owner == mk.KEY_OWNER and st.group == mk.KEY_OWNER
    status = Status.PASS if good_perm and k.key.bits >= mk.MIN_BITS else Status.WARN
    if st.mode & 0o077:
        status = Status.FAIL
    return f"key: RSA {k.key.bits} bits, {owner}", status


def _selector_text(k: step.KeyDirFacts) -> tuple[str, Status]:
    check = k.selector
    if check is None:
        return "selector file: missing", Status.FAIL
    if check.ok:
        return f"selector: {check.used}", Status.PASS
    problems = ", ".join(p.value for p in check.problems)
    return f"selector file: {check.used!r} ({problems})", Status.FAIL


def _links_text(d: step.DomainDkim) -> tuple[str, Status]:
    links = d.links
    if links.denied:
        return f"links: cannot be inspected ({links.denied})", Status.UNKNOWN
    if links.dir_stat is None and d.active is None:
        return "links: none yet: email-update creates them once a key exists", Status.INFO
    if links.dir_stat is None:
        return f"links: none in {mk.LINKS_DIR}/ (email-update not run since keys changed)", Status.FAIL
    if d.active is not None:
        want_sel, want_key = step.expected_link_targets(d.active.path)
        if links.selector_resolved == want_sel and links.private_resolved == want_key:
            return f"links: {links.path}/ → {d.active.path}/", Status.PASS
    return (f"links: private → {links.private_resolved or 'nothing'}, "
            f"selector → {links.selector_resolved or 'nothing'}", Status.FAIL)


class StatePanel(Vertical):
    def __init__(self, snapshot: StepSnapshot) -> None:
        super().__init__(classes="dkim-panel")
        self.snapshot = snapshot
        self.facts: step.DkimFacts | None = snapshot.facts

    def _domains(self) -> list[step.DomainDkim]:
        wanted = set(self.snapshot.domains())
        return [d for d in self.facts.domains if d.domain in wanted] if self.facts else []

    def compose(self) -> ComposeResult:
        facts = self.facts
        if facts is None:
            return
        signing = facts.signing_prop or "not set"
        yield _row(f"qpsmtpd DKIMSigning: {signing}",
                   Status.PASS if signing == "enabled" else Status.FAIL)
        for index, d in enumerate(self._domains()):
            yield from self._compose_domain(index, d, facts)

    def _compose_domain(self, index: int, d: step.DomainDkim, facts: step.DkimFacts) -> ComposeResult:
        source_text = {
            step.Source.DOMAIN: f"per-domain key {d.own.path}/",
            step.Source.DEFAULT: f"server-wide default key {facts.default.path}/ (fallback)",
            step.Source.NONE: "no key (neither a per-domain folder nor default/)",
            step.Source.UNKNOWN: "key folders cannot be inspected (re-run as root)",
        }[d.source]
        yield Static(Content(f"{d.domain}: {source_text}"),
                     classes="dkim-domain" + (" -fail" if d.source is step.Source.NONE else ""))
        active = d.active
        if active is not None:
            yield _row(*_selector_text(active))
            yield _row(*_key_text(active))
        yield _row(*_links_text(d))
        for wrong in d.wrong:
            if wrong.denied:
                yield _row(f"old key folder: {wrong.path} cannot be inspected (re-run as root)",
                           Status.UNKNOWN)
            else:
                yield _row(f"old key folder: {wrong.path} (not read by SME v10)", Status.WARN)
        text, status = OUTCOME_TEXT[step.predict(d)]
        yield _row(f"qpsmtpd {text}", status)
        yield from self._compose_published(d)
        yield from self._compose_rotation(d)
        yield from self._compose_controls(index, d, facts)

    def _compose_published(self, d: step.DomainDkim) -> ComposeResult:
        pub = d.published
        if pub is None:
            return
        if pub.lookup.failed:
            yield _row(f"DNS {pub.name}: unknown ({pub.lookup.describe()})", Status.UNKNOWN)
            return
        if pub.lookup.absent:
            yield _row(f"DNS {pub.name}: not published yet", Status.FAIL)
        elif pub.proof is not None:
            text, status = PROOF_TEXT[pub.proof.outcome]
            yield _row(f"DNS {pub.name}: {text}", status)
        if pub.lookup.ok:
            parsed = mk.parse_dkim_txt(pub.lookup.values[0])
            if parsed.test_mode:
                yield _row("record is in test mode (t=y): receivers treat the mail as unsigned; "
                           "remove t=y once signing is verified", Status.INFO)
        record = self._record_for(d)
        if record is not None:
            yield Static("BIND zone-file line:", classes="state-label")
            yield Static(Content(record.zone_line(d.domain)), classes="dkim-bind")

    def _record_for(self, d: step.DomainDkim):
        assessment = self.snapshot.assessment
        if assessment is None:
            return None
        return next((r for r in assessment.records if r.domain == d.domain
                     and r.name.startswith(f"{d.published.selector}._domainkey.")), None) \
            if d.published else None

    def _compose_rotation(self, d: step.DomainDkim) -> ComposeResult:
        rotation = step.rotation_of(d)
        if rotation is None:
            return
        nxt = rotation.next_stage
        yield Static(Content(f"Key rotation {rotation.old_selector} → {rotation.new_selector}:"),
                     classes="state-label")
        for stage in mk.RotationStage:
            if nxt is None or stage < nxt:
                mark, status = "✓", Status.PASS
            elif stage == nxt:
                mark, status = "→", Status.INFO
            else:
                mark, status = " ", None
            yield _row(f" {mark} {stage.value}. {mk.ROTATION_TEXT[stage]}", status,
                       classes="state-row dkim-stage")

    def _compose_controls(self, index: int, d: step.DomainDkim, facts: step.DkimFacts) -> ComposeResult:
        if d.denials:
            yield _row("no key can be proposed until the wizard runs as root", Status.UNKNOWN)
            return
        if d.source is step.Source.NONE and any(w.has_private for w in d.wrong):
            yield _row("the proposed change copies the old key (no new key needed: the "
                       "published record stays valid)", Status.INFO)
            return
        taken = frozenset(s for s in (step.selector_of(d.active), d.retired_selector) if s)
        proposed = mk.dated_selector(facts.today, taken)
        with Horizontal(classes="dkim-controls"):
            yield Input(value=proposed, id=f"dkim-selector-{index}", classes="dkim-selector",
                        max_length=63, tooltip="Selector for the new key (one DNS label)")
            if d.source is not step.Source.DOMAIN:
                yield Button("Generate key", id=f"dkim-generate-{index}", classes="dkim-generate")
            elif d.staged is None:
                yield Button("Start rotation", id=f"dkim-rotate-{index}", classes="dkim-rotate")

    # ------------------------------------------------------------------ buttons
    def _domain_at(self, button_id: str | None) -> tuple[step.DomainDkim, str] | None:
        index = int((button_id or "x-0").rsplit("-", 1)[-1])
        domains = self._domains()
        if index >= len(domains):
            return None
        raw = self.query_one(f"#dkim-selector-{index}", Input).value.strip()
        try:
            selector = validate.dns_label(raw)
        except validate.InvalidValue as exc:
            self.app.notify(str(exc), title="Invalid selector", severity="error")
            return None
        return domains[index], selector

    @on(Button.Pressed, ".dkim-generate")
    def _generate(self, event: Button.Pressed) -> None:
        event.stop()
        chosen = self._domain_at(event.button.id)
        if chosen is None or self.facts is None:
            return
        d, selector = chosen
        actions = step.generate_for(d.domain, self.facts.today, selector)
        if self.facts.signing_prop != "enabled":
            from smewizard.actions.base import SetProp

            actions.insert(0, SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled",
                                      step=step.STEP_KEY, record_type="service"))
        self._request(tuple(actions))

    @on(Button.Pressed, ".dkim-rotate")
    def _rotate(self, event: Button.Pressed) -> None:
        event.stop()
        chosen = self._domain_at(event.button.id)
        if chosen is None or self.facts is None:
            return
        d, selector = chosen
        if selector in (step.selector_of(d.active), d.retired_selector):
            self.app.notify(f"Selector {selector} is already in use for {d.domain}; a rotation "
                            "needs a new one.", title="Invalid selector", severity="error")
            return
        actions = step.rotation_start(d, self.facts.today, selector)
        if actions:
            self._request(tuple(actions))

    def _request(self, actions: tuple) -> None:
        """Preview → ConfirmApply → apply → re-verify, through the app's own workers."""
        self.app.preview_worker(self.snapshot.key, actions)  # type: ignore[attr-defined]
