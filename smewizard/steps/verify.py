"""Test & logs step (guide Parts 10 and 11): what the server's own logs prove.

probe reads every qpsmtpd and qmail multilog file (rotated ones too, streamed); assess says per
hosted domain whether outbound mail was signed (`dkim: pass, we signed the message`), skipped
(`dkim: skip, DKIM not configured for …`) or never seen, and server-wide what SpamAssassin,
ClamAV and badmailfrom did. The live test (send a message through the local server and watch
the log for its signing line) lives here too, UI-free: `send_test_message` and `TestWatch`.
"""

from __future__ import annotations

import re
import secrets
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from smewizard import validate
from smewizard.host.base import Host, HostError
from smewizard.logs import QmailSummary, read_qmail, read_qpsmtpd, stamp_text
from smewizard.logs.scan import LogSummary
from smewizard.logs.tai64n import Tai64n
from smewizard.model import Assessment, Finding, Status
from smewizard.steps.base import Context, ServerFacts

KEY = "verify"
P10, P11 = "Part 10", "Part 11"
MAILSTATS_PATHS = ("/usr/bin/mailstats.pl", "/etc/e-smith/events/actions/mailstats")
QPSMTPD_CONFIG = "/var/service/qpsmtpd/config"
DKIM_KEYS = "/home/e-smith/dkim_keys"
# What email-update rewrites (plugins, the per-domain link folders) and where keys are written;
# directory mtimes move whenever an entry is added, replaced or removed.
# SME keeps its qpsmtpd plugin list in config/peers/0 (config/plugins only loads `peers`); we
# watch both, so a server laid out either way is covered (docs/sme-v10.md A4).
SIGNING_INPUTS = (f"{QPSMTPD_CONFIG}/plugins", f"{QPSMTPD_CONFIG}/peers/0", f"{QPSMTPD_CONFIG}/dkim",
                  f"{DKIM_KEYS}/default")


@dataclass(frozen=True)
class VerifyFacts:
    domains: tuple[str, ...]
    qpsmtpd: LogSummary | None
    qpsmtpd_error: str | None
    qmail: QmailSummary | None
    qmail_error: str | None
    mailstats: bool
    signing_enabled: bool
    # per domain: newest mtime (Unix seconds) of what decides its signing; log lines older than
    # this say nothing about the current configuration
    signing_changed: dict[str, float] = field(default_factory=dict)


class VerifyStep:
    key = KEY
    title = "Test & logs"
    parts = (P10, P11)

    async def probe(self, ctx: Context, server: ServerFacts) -> VerifyFacts:
        qpsmtpd, qpsmtpd_error = await ctx.io(_read, read_qpsmtpd, ctx.host)
        qmail, qmail_error = await ctx.io(_read, read_qmail, ctx.host)
        mailstats = any([await ctx.io(ctx.host.exists, p) for p in MAILSTATS_PATHS])
        signing = (server.config.qpsmtpd.get("DKIMSigning") or "").lower() == "enabled"
        changed = await ctx.io(signing_changed_at, ctx.host, server.domains)
        return VerifyFacts(server.domains, qpsmtpd, qpsmtpd_error, qmail, qmail_error, mailstats, signing, changed)

    def assess(self, facts: VerifyFacts) -> Assessment:
        findings: list[Finding] = []
        if facts.qpsmtpd is None:
            findings.append(Finding(
                "VER010", Status.UNKNOWN, "Could not read the qpsmtpd log",
                f"{facts.qpsmtpd_error}. Without it the wizard cannot tell whether mail is signed; run it "
                "as root on the server (guide Part 10).", P10))
        else:
            findings.extend(_coverage(facts.qpsmtpd))
            for domain in facts.domains:
                findings.extend(_domain_findings(domain, facts.qpsmtpd, facts.signing_enabled,
                                                 facts.signing_changed.get(domain)))
            findings.extend(_verdicts(facts.qpsmtpd))
        findings.extend(_qmail(facts))
        findings.append(_mail_tester())
        findings.append(_mailstats(facts.mailstats))
        return Assessment(KEY, tuple(findings))


def signing_changed_at(host, domains) -> dict[str, float]:
    """Per domain, when its signing configuration last changed: the newest mtime of the qpsmtpd
    plugins file, the dkim link folders and the key folders (unreadable or missing ones are
    skipped: no time is better than a wrong one)."""
    shared = _newest(host, SIGNING_INPUTS)
    out: dict[str, float] = {}
    for domain in domains:
        try:
            name = validate.domain_name(domain)
        except validate.InvalidValue:
            continue
        own = _newest(host, (f"{QPSMTPD_CONFIG}/dkim/{name}", f"{DKIM_KEYS}/{name}"))
        newest = max((t for t in (shared, own) if t is not None), default=None)
        if newest is not None:
            out[domain] = newest
    return out


def _newest(host, paths) -> float | None:
    times = []
    for path in paths:
        try:
            st = host.stat(path)
        except HostError:
            continue
        if st is not None:
            times.append(st.mtime)
    return max(times, default=None)


def _read(reader, host):
    try:
        return reader(host), None
    except HostError as exc:
        return None, str(exc)


def _when(line) -> str:
    return stamp_text(line.when) if line is not None else "time unknown"


def _coverage(log: LogSummary) -> list[Finding]:
    span = f"{stamp_text(log.first)} to {stamp_text(log.last)}" if log.first and log.last else "an unknown period"
    extra = f"; {log.unattributed_signed} signed message(s) could not be tied to a domain" if log.unattributed_signed else ""
    return [Finding(
        "VER011", Status.INFO,
        f"qpsmtpd log: {len(log.files)} file(s), {log.bytes_read:,} bytes, {span} (times decoded by smewizard)",
        "Files are read oldest first (rotated @….s files, then current). multilog stamps each line "
        "with a TAI64N label (@4000…); smewizard decodes these itself, exactly as daemontools' "
        "tai64nlocal would, and shows them in UTC, so nothing needs installing on the server. The "
        "guide notes that SME v10 has no tai64nlocal: that only matters when reading the files by "
        f"hand (guide Part 10){extra}.", P10)]


def _domain_findings(domain: str, log: LogSummary, signing_enabled: bool,
                     changed: float | None = None) -> list[Finding]:
    entry = log.domain(domain)
    out: list[Finding] = []
    signed, skip = entry.last_signed, entry.last_skip
    skip_is_latest = skip is not None and (signed is None or _after(skip.when, signed.when))
    error_is_latest = entry.last_error is not None and all(
        _after(entry.last_error.when, other.when) for other in (signed, skip) if other is not None)
    latest = skip if skip_is_latest else entry.last_error if error_is_latest else None
    if latest is not None and _before_change(latest, changed):
        return [_stale(domain, latest, changed) if signing_enabled else _signing_off(domain, latest)]
    if entry.errors and not _before_change(entry.last_error, changed):
        out.append(Finding(
            "VER004", Status.FAIL, f"qpsmtpd could not read the DKIM key of {domain} ({entry.errors}×, last {_when(entry.last_error)})",
            f"The log says: {entry.last_error.text}. The key files must be readable by the qpsmtpd user "
            "(owner qpsmtpd, mode 0400); see the DKIM step (guide Part 2).", P10, domain))
    if skip_is_latest:
        cause = ("DKIMSigning is enabled, so the key or its template links are missing for this domain"
                 if signing_enabled else "DKIMSigning is not enabled")
        out.append(Finding(
            "VER002", Status.FAIL,
            f"qpsmtpd did not sign the latest mail from {domain} ({_when(skip)}): DKIM not configured",
            f"The log line `{skip.text}` appeared {entry.skipped} time(s). {cause}. Fix it in the DKIM step, "
            "run signal-event email-update, then send a test message (guide Parts 2 and 10).", P10, domain))
    elif signed is not None:
        out.append(Finding(
            "VER001", Status.PASS, f"Mail from {domain} is signed: last `we signed the message` {_when(signed)}",
            f"{entry.signed} signed message(s) in the logs. A signature only helps when the selector "
            "published in DNS matches; the DKIM step checks that (guide Parts 2 and 10).", P10, domain))
        if entry.skipped:
            out.append(Finding(
                "VER003", Status.INFO, f"Earlier mail from {domain} was not signed ({entry.skipped}×, last {_when(skip)})",
                "The latest message was signed, so the problem was fixed since (guide Part 10).", P10, domain))
    elif not entry.errors:
        out.append(Finding(
            "VER005", Status.UNKNOWN, f"No outbound mail from {domain} in the qpsmtpd logs",
            "Nothing proves yet that qpsmtpd signs this domain's mail. Send a test message from an "
            f"address @{domain} through the server (Test & logs screen, or your mail client), then "
            "re-verify (guide Part 10).", P10, domain))
    return out


def _before_change(line, changed: float | None) -> bool:
    return line is not None and line.when is not None and changed is not None and line.when.timestamp < changed


def _stale(domain: str, latest, changed: float) -> Finding:
    when = datetime.fromtimestamp(changed, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Finding(
        "VER006", Status.UNKNOWN,
        f"No message from {domain} signed since the signing configuration changed ({when}): send a test",
        f"The latest dkim line for {domain}, `{latest.text}` ({_when(latest)}), is older than the last "
        "change to the DKIM keys, their links or the qpsmtpd plugins list (email-update), so it says "
        "nothing about the current configuration. Send a test message from an address "
        f"@{domain} (t on this screen) and re-verify (guide Parts 2 and 10).", P10, domain)


def _signing_off(domain: str, latest) -> Finding:
    """The log predates the configuration, and the configuration says no signing at all."""
    return Finding(
        "VER007", Status.FAIL,
        f"Mail from {domain} is not signed now: DKIMSigning is not enabled",
        f"The latest dkim line for {domain}, `{latest.text}` ({_when(latest)}), is older than the last "
        "change to the signing configuration, and that configuration has qpsmtpd's DKIMSigning "
        "disabled, so qpsmtpd signs nothing (e.g. after an undo of the DKIM step). Enable it in the "
        "DKIM step, then send a test message (guide Parts 2 and 10).", P10, domain)


def _after(a: Tai64n | None, b: Tai64n | None) -> bool:
    return a is not None and (b is None or a > b)


def _verdicts(log: LogSummary) -> list[Finding]:
    out = []
    sa = log.spamassassin.counts
    if sa:
        last = log.spamassassin.recent[-1] if log.spamassassin.recent else None
        out.append(Finding(
            "VER012", Status.INFO,
            f"SpamAssassin: {sa.get('pass', 0)} passed, {sa.get('fail', 0)} rejected, {sa.get('tolerated', 0)} tolerated",
            ("Latest spam verdict: " + last.text + f" ({_when(last)}). " if last else "")
            + "If wanted mail is rejected, raise RejectLevel; if spam gets through, lower TagLevel "
            "(SpamAssassin step, guide Part 6).", "Part 6"))
    av = log.clamav.counts
    if av:
        found = av.get("fail", 0)
        out.append(Finding(
            "VER013", Status.WARN if found else Status.INFO,
            f"ClamAV: {av.get('pass', 0)} clean, {found} virus verdict(s)",
            ("Latest: " + "; ".join(f"{r.text} ({_when(r)})" for r in log.clamav.recent[-3:]) + ". "
             if found else "")
            + "Check virus verdicts on legitimate mail for false positives (guide Part 7).", "Part 7"))
    bmf = sum(log.badmailfrom.counts.values())
    if bmf:
        last = log.badmailfrom.recent[-1]
        out.append(Finding(
            "VER014", Status.INFO, f"badmailfrom rejected {bmf} message(s), last {_when(last)}",
            f"Latest: {last.text}. Envelope senders listed in badmailfrom are refused at SMTP time "
            "(SpamAssassin step, guide Part 6).", "Part 6"))
    return out


def _qmail(facts: VerifyFacts) -> list[Finding]:
    if facts.qmail is None:
        return [Finding("VER016", Status.INFO, "Could not read the qmail log", str(facts.qmail_error), P10)]
    d = facts.qmail.deliveries
    failed = d.get("failure", 0)
    detail = "; ".join(f.text for f in facts.qmail.recent_failures[-3:])
    return [Finding(
        "VER015", Status.WARN if failed else Status.INFO,
        f"qmail deliveries: {d.get('success', 0)} delivered, {failed} failed, {d.get('deferral', 0)} deferred",
        (f"Latest failures: {detail}. " if detail else "")
        + "Remote rejections often quote the reason (SPF, DKIM, DMARC, PTR); see the matching step "
        "(guide Part 10).", P10)]


def _mail_tester() -> Finding:
    return Finding(
        "VER020", Status.INFO, "End-to-end: send a real message to mail-tester.com or Gmail and paste the result",
        "Send from your usual mail client through this server (not a test tool), open the received "
        "message's source and paste its Authentication-Results header in the Test & logs screen: the "
        "wizard explains dkim, spf and dmarc against the selector and domains it expects. 10/10 is "
        "reachable; p=none may cost a point (guide Part 10).", P10)


def _mailstats(installed: bool) -> Finding:
    if installed:
        return Finding("VER021", Status.INFO, "The mailstats contrib is installed",
                       "It mails a nightly summary of the logs (spam, viruses, RBL hits per hour) "
                       "to the admin (guide Part 11).", P11)
    return Finding("VER021", Status.INFO, "The mailstats contrib is not installed",
                   "Optional: smeserver-mailstats mails a nightly summary of these logs to the admin "
                   "(guide Part 11).", P11)


STEP = VerifyStep()


# ---------------------------------------------------------------- live test: send
class SendFailed(Exception):
    """The test message could not be handed to the SMTP server (message says why)."""


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    token: str
    sender: str
    recipient: str
    server: str
    reply: str  # the server's answer to DATA, e.g. "Queued! 1764… qp 4242 <…>"


_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


def mailbox(value: str, what: str) -> str:
    """A plain `local@domain` address (validated; no display name, no quoting)."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not _LOCAL_PART.match(local):
        raise validate.InvalidValue(f"{what} {value!r} is not an address like user@example.com")
    return f"{local}@{validate.domain_name(domain)}"


def build_test_message(sender: str, recipient: str, now: datetime | None = None) -> tuple[EmailMessage, str]:
    token = secrets.token_hex(8)
    domain = sender.rsplit("@", 1)[1]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = f"smewizard test {token}"
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = f"<smewizard-{token}@{domain}>"
    msg.set_content(
        "Test message sent by smewizard (guide Part 10) to check that this server signs mail.\n"
        "Open this message's source at the recipient and paste its Authentication-Results header\n"
        "into smewizard's Test & logs screen.\n"
    )
    return msg, token


def send_through_server(server: Host, sender: str, recipient: str, smtp_host: str = "127.0.0.1",
                        smtp_port: int = 25, timeout: float = 30.0) -> SentMessage:
    """The live test's submission: to `smtp_host:smtp_port` as the SERVER sees it (its own
    qpsmtpd on 127.0.0.1:25), reached through `server.tcp_endpoint` (directly for a local host,
    an SSH forward with --host), so the message lands in the log the wizard watches."""
    sender = mailbox(sender, "sender")
    recipient = mailbox(recipient, "recipient")
    try:
        smtp_host = validate.ip_address(smtp_host)
    except validate.InvalidValue:
        raise validate.InvalidValue(
            f"SMTP host {smtp_host!r} must be an IP address as the server sees it (127.0.0.1 is its own qpsmtpd)"
        ) from None
    _check_port(smtp_port)
    where = f"{smtp_host}:{smtp_port} on the server"
    try:
        local_host, local_port = server.tcp_endpoint(smtp_host, smtp_port)
    except HostError as exc:
        raise SendFailed(f"cannot reach {where}: {exc}") from None
    return send_test_message(sender, recipient, local_host, local_port, timeout, where=where)


def _check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise validate.InvalidValue(f"port {port} is not between 1 and 65535")


def send_test_message(sender: str, recipient: str, host: str = "127.0.0.1", port: int = 25,
                      timeout: float = 30.0, where: str | None = None) -> SentMessage:
    """Submit one message the way SME's own clients do: plain SMTP to the local qpsmtpd, where
    127.0.0.1 is a relay client (no AUTH), with the envelope sender in a hosted domain. `host`
    is where THIS process connects; `where` names it for the admin (e.g. the server's side of
    a forward). The live test goes through send_through_server."""
    sender = mailbox(sender, "sender")
    recipient = mailbox(recipient, "recipient")
    host = validate.ip_address(host) if re.match(r"^[\d.:]+$", host) else validate.domain_name(host)
    _check_port(port)
    msg, token = build_test_message(sender, recipient)
    where = where or f"{host}:{port}"
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.ehlo_or_helo_if_needed()
            smtp.mail(sender)
            code, reply = smtp.rcpt(recipient)
            if code >= 400:
                raise SendFailed(f"{where} refused the recipient {recipient}: {code} {reply.decode(errors='replace')}")
            code, reply = smtp.data(msg.as_bytes())
            if code >= 400:
                raise SendFailed(f"{where} refused the message: {code} {reply.decode(errors='replace')}")
    except ConnectionRefusedError:
        raise SendFailed(
            f"nothing accepts SMTP connections on {where}. On an SME server qpsmtpd listens on port 25; "
            "a simulated or demo server has no SMTP server, so there is nothing to send through."
        ) from None
    except TimeoutError:
        raise SendFailed(f"{where} did not answer within {timeout:.0f} s") from None
    except smtplib.SMTPException as exc:
        raise SendFailed(f"{where}: {exc}") from None
    except OSError as exc:
        raise SendFailed(f"cannot reach {where}: {exc.strerror or exc}") from None
    return SentMessage(str(msg["Message-ID"]), token, sender, recipient, where, reply.decode(errors="replace"))


# ---------------------------------------------------------------- live test: watch the log
@dataclass
class TestOutcome:
    pid: str
    signed: bool
    line: str  # the dkim plugin's line for the message
    when: Tai64n | None


@dataclass
class TestWatch:
    """Feed it new log lines (from LogTail.poll); it finds the test message's connection by the
    token in its Message-ID (qpsmtpd logs `Queued! … <message-id>` when it queues) and reports
    that connection's dkim line."""

    token: str
    dkim_by_pid: dict[str, tuple[str, Tai64n | None]] = field(default_factory=dict)
    message_pid: str | None = None
    outcome: TestOutcome | None = None

    def feed(self, lines: list[tuple[Tai64n | None, str]]) -> TestOutcome | None:
        for stamp, text in lines:
            pid, _, rest = text.partition(" ")
            if " dkim: " in rest and ("we signed" in rest or "skip," in rest or "error," in rest):
                self.dkim_by_pid[pid] = (rest, stamp)
                if len(self.dkim_by_pid) > 10_000:
                    self.dkim_by_pid.pop(next(iter(self.dkim_by_pid)))
            if self.message_pid is None and self.token in rest:
                self.message_pid = pid
            if self.message_pid is not None and self.outcome is None and self.message_pid in self.dkim_by_pid:
                line, when = self.dkim_by_pid[self.message_pid]
                self.outcome = TestOutcome(self.message_pid, "we signed the message" in line, line, when)
        return self.outcome
