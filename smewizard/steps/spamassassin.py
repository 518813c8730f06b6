"""SpamAssassin step (guide Parts 6-9): thresholds, Bayes state, the envelope blacklist,
custom-rule and ClamAV false-positive guidance, BEC awareness and PHPMailer abuse indicators."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smewizard import validate
from smewizard.actions.base import Action, ActionError, SetProp, SignalEvent, run_checked
from smewizard.host.base import Host, HostError, NotFound
from smewizard.mail.spamassassin import (
    SAFE_REJECT_UNTRAINED,
    SENSITIVITY_TAG,
    BayesReading,
    BayesState,
    Thresholds,
    envelope_entry,
    format_threshold,
    parse_threshold,
    read_dump_result,
    validate_thresholds,
)
from smewizard.model import Assessment, Finding, Status
from smewizard.sme.db import read_db
from smewizard.steps.base import Context, ServerFacts

KEY = "spamassassin"
CONTROL_BADMAILFROM = "/var/qmail/control/badmailfrom"
WBL_DB = "/home/e-smith/db/wbl"
LOCAL_CF = "/etc/mail/spamassassin/local.cf"
SA_DIR = "/etc/mail/spamassassin"
LOCAL_CF_TEMPLATE = "/etc/e-smith/templates/etc/mail/spamassassin/local.cf"
LOCAL_CF_CUSTOM = "/etc/e-smith/templates-custom/etc/mail/spamassassin/local.cf"
BADMAILFROM_CUSTOM = "/etc/e-smith/templates-custom/var/qmail/control/badmailfrom"
QPSMTPD_LOG = "/var/log/qpsmtpd/current"
QMAIL_LOG = "/var/log/qmail/current"
HTTPD_LOG = "/var/log/httpd/access_log"
LOG_READ_LIMIT = 32 * 1024 * 1024
SPOOFED = "Heuristics.Phishing.Email.SpoofedDomain"
# Form handlers WordPress spam relays through (guide Part 9).
WP_FORM_ENDPOINTS = ("/wp-admin/admin-post.php", "wpcf7", "/xmlrpc.php", "/wp-admin/admin-ajax.php")


# ------------------------------------------------------------------ actions
@dataclass(frozen=True)
class WblEntry(Action):
    """Add (`Black`) or remove an envelope-blacklist entry in smeserver-wbl's db:
    `db wbl setprop badmailfrom <entry> Black` / `db wbl delprop badmailfrom <entry>`.
    The entry is a prop *name* like `@bad.example`, which the generic SetProp's property-name
    check rightly refuses, so it has its own validation (`envelope_entry`)."""

    entry: str
    add: bool = True
    step: str = KEY
    domain: str | None = None

    def __post_init__(self) -> None:
        if envelope_entry(self.entry) != self.entry:
            raise validate.InvalidValue(f"{self.entry!r}: pass the normalised entry")

    def summary(self) -> str:
        return f"{'Add' if self.add else 'Remove'} {self.entry} {'to' if self.add else 'from'} the envelope blacklist"

    def commands(self) -> list[list[str]]:
        if self.add:
            return [["db", "wbl", "setprop", "badmailfrom", self.entry, "Black"]]
        return [["db", "wbl", "delprop", "badmailfrom", self.entry]]

    def current(self, host: Host) -> str | None:
        return read_db(host, "wbl").prop("badmailfrom", self.entry)

    def target_value(self) -> str | None:
        return "Black" if self.add else None

    def execute(self, host: Host) -> str:
        if read_db(host, "wbl").get("badmailfrom") is None:
            raise ActionError("db wbl has no badmailfrom record; is smeserver-wbl installed?")
        return run_checked(host, self.commands()[0])


def threshold_actions(tag: str, reject: str, current: dict[str, str]) -> list[Action]:
    """Actions to set TagLevel/RejectLevel as entered. Raises InvalidValue (nothing built,
    nothing changed) on a malformed or inconsistent entry. SME applies the two levels only when
    Sensitivity is `custom` (Koozali wiki), so that is set too when needed."""
    levels = validate_thresholds(tag, reject)
    actions: list[Action] = []
    if (current.get("Sensitivity") or "").lower() != "custom":
        actions.append(SetProp("configuration", "spamassassin", "Sensitivity", "custom", step=KEY,
                               record_type="service", why="SME uses TagLevel/RejectLevel only when custom"))
    for prop, value in (("TagLevel", levels.tag), ("RejectLevel", levels.reject)):
        if current.get(prop) != format_threshold(value):
            actions.append(SetProp("configuration", "spamassassin", prop, format_threshold(value),
                                   step=KEY, record_type="service"))
    if actions:
        actions.append(SignalEvent("email-update", step=KEY))
    return actions


def blacklist_actions(entry: str, *, add: bool, mechanism: str) -> list[Action]:
    """Add/remove one envelope-blacklist entry through the mechanism present. Raises
    InvalidValue for a malformed entry and ActionError when no db-managed list exists."""
    normalised = envelope_entry(entry)
    if mechanism != "wbl":
        raise ActionError(
            "this server has no db-managed envelope blacklist (smeserver-wbl is not installed): "
            f"add a line to a custom template fragment in {BADMAILFROM_CUSTOM}/ and run "
            "signal-event email-update; /var/qmail/control/badmailfrom itself is generated"
        )
    return [WblEntry(normalised, add=add), SignalEvent("email-update", step=KEY)]


# ------------------------------------------------------------------ facts
@dataclass(frozen=True)
class LogCounts:
    lines: int = 0
    remote_deliveries: int = 0
    local_deliveries: int = 0
    bounces: int = 0
    double_bounces: int = 0
    spoofed_domain: int = 0
    error: str | None = None


@dataclass(frozen=True)
class SpamFacts:
    props: dict[str, str]
    bayes: BayesReading
    mechanism: str  # "wbl" (smeserver-wbl db) or "control-file" (custom template fragment)
    blacklist: tuple[str, ...]  # entries in force (wbl Black props, or the generated file)
    control_file: tuple[str, ...]  # lines of /var/qmail/control/badmailfrom
    guide_records: tuple[str, ...]  # accounts-db keys of type badmailfrom (the guide's command)
    whitelist_from: tuple[str, ...]  # spamassassin db wbl.global White props (smeserver-wbl)
    local_cf_template: bool  # SME generates local.cf from templates (dir exists)
    local_cf_custom: bool  # a templates-custom local.cf fragment directory exists
    extra_cf: tuple[str, ...]  # other *.cf files in /etc/mail/spamassassin
    qpsmtpd_log: LogCounts
    qmail_log: LogCounts
    wp_posts: dict[str, int] = field(default_factory=dict)
    httpd_error: str | None = None


def _lines(host: Host, path: str) -> tuple[str, ...] | None:
    try:
        text = host.read_text(path, limit=LOG_READ_LIMIT)
    except NotFound:
        return None
    return tuple(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#"))


def _count_qpsmtpd(host: Host) -> LogCounts:
    try:
        text = host.read_text(QPSMTPD_LOG, limit=LOG_READ_LIMIT)
    except HostError as exc:
        return LogCounts(error=str(exc))
    lines = text.splitlines()
    return LogCounts(lines=len(lines), spoofed_domain=sum(SPOOFED in ln for ln in lines))


_DELIVERY = re.compile(r"starting delivery \d+: msg \d+ to (remote|local) ")


def _count_qmail(host: Host) -> LogCounts:
    try:
        text = host.read_text(QMAIL_LOG, limit=LOG_READ_LIMIT)
    except HostError as exc:
        return LogCounts(error=str(exc))
    remote = local = bounces = double = 0
    lines = text.splitlines()
    for line in lines:
        match = _DELIVERY.search(line)
        if match:
            if match[1] == "remote":
                remote += 1
            else:
                local += 1
        elif " bounce msg " in line or line.startswith("bounce msg "):
            bounces += 1
        elif "triple bounce" in line or "double bounce" in line:
            double += 1
    return LogCounts(len(lines), remote, local, bounces, double)


def _count_wp_posts(host: Host) -> tuple[dict[str, int], str | None]:
    try:
        text = host.read_text(HTTPD_LOG, limit=LOG_READ_LIMIT)
    except NotFound:
        return {}, None
    except HostError as exc:
        return {}, str(exc)
    counts = dict.fromkeys(WP_FORM_ENDPOINTS, 0)
    for line in text.splitlines():
        if '"POST ' not in line:
            continue
        for endpoint in WP_FORM_ENDPOINTS:
            if endpoint in line:
                counts[endpoint] += 1
    return {k: v for k, v in counts.items() if v}, None


def probe_files(host: Host) -> dict:
    """Everything read from files (run in a worker thread)."""
    wbl_present = host.exists(WBL_DB)
    wbl = read_db(host, "wbl") if wbl_present else None
    entries: tuple[str, ...] = ()
    if wbl is not None and wbl.get("badmailfrom"):
        entries = tuple(sorted(k for k, v in wbl.get("badmailfrom").props.items() if v == "Black"))
    control = _lines(host, CONTROL_BADMAILFROM) or ()
    accounts = read_db(host, "accounts")
    sa_db = read_db(host, "spamassassin") if host.exists("/home/e-smith/db/spamassassin") else None
    whitelist = ()
    if sa_db is not None and sa_db.get("wbl.global"):
        whitelist = tuple(sorted(k for k, v in sa_db.get("wbl.global").props.items() if v == "White"))
    try:
        extra = tuple(n for n in host.list_dir(SA_DIR) if n.endswith(".cf") and n != "local.cf")
    except HostError:
        extra = ()
    wp_posts, httpd_error = _count_wp_posts(host)
    return {
        "mechanism": "wbl" if wbl is not None and wbl.get("badmailfrom") is not None else "control-file",
        "blacklist": entries if wbl is not None and wbl.get("badmailfrom") is not None else control,
        "control_file": control,
        "guide_records": tuple(sorted(r.key for r in accounts.of_type("badmailfrom"))),
        "whitelist_from": whitelist,
        "local_cf_template": host.exists(LOCAL_CF_TEMPLATE),
        "local_cf_custom": host.exists(LOCAL_CF_CUSTOM),
        "extra_cf": extra,
        "qpsmtpd_log": _count_qpsmtpd(host),
        "qmail_log": _count_qmail(host),
        "wp_posts": wp_posts,
        "httpd_error": httpd_error,
    }


def read_bayes(host: Host) -> BayesReading:
    try:
        result = host.run(["sa-learn", "--dump", "magic"], timeout=120)
    except NotFound:
        return BayesReading(BayesState.UNKNOWN, None, "sa-learn is not installed on the server")
    except HostError as exc:
        return BayesReading(BayesState.UNKNOWN, None, str(exc))
    if result.timed_out:
        return BayesReading(BayesState.UNKNOWN, None, "sa-learn --dump magic timed out")
    return read_dump_result(result.returncode, result.stdout, result.stderr)


class SpamAssassinStep:
    key = KEY
    title = "SpamAssassin"
    parts = ("Part 6", "Part 7", "Part 8", "Part 9")

    async def probe(self, ctx: Context, server: ServerFacts) -> SpamFacts:
        files = await ctx.io(probe_files, ctx.host)
        bayes = await ctx.io(read_bayes, ctx.host)
        return SpamFacts(props=dict(server.config.spamassassin), bayes=bayes, **files)

    def assess(self, facts: SpamFacts) -> Assessment:
        findings = (
            _threshold_findings(facts)
            + _bayes_findings(facts)
            + _blacklist_findings(facts)
            + _rules_findings(facts)
            + _clamav_findings(facts)
            + _bec_findings()
            + _wordpress_findings(facts)
        )
        return Assessment(KEY, tuple(findings), ())


# ------------------------------------------------------------------ assessment
def effective_thresholds(props: dict[str, str]) -> tuple[Thresholds | None, str | None]:
    """The levels SME applies, or (None, error) when a stored value is malformed."""
    sensitivity = (props.get("Sensitivity") or "medium").lower()
    if sensitivity != "custom":
        return Thresholds(SENSITIVITY_TAG.get(sensitivity, 5.0), 0.0), None
    try:
        tag = parse_threshold(props.get("TagLevel") or "5", "TagLevel")
        reject = parse_threshold(props.get("RejectLevel") or "0", "RejectLevel")
    except validate.InvalidValue as exc:
        return None, str(exc)
    return Thresholds(tag, reject), None


def _levels_ignored(props: dict[str, str]) -> bool:
    """Custom levels stored that differ from the preset, while Sensitivity is not custom."""
    sensitivity = (props.get("Sensitivity") or "medium").lower()
    if sensitivity == "custom":
        return False
    preset = SENSITIVITY_TAG.get(sensitivity, 5.0)
    try:
        tag_differs = bool(props.get("TagLevel")) and float(props["TagLevel"]) != preset
        reject_set = bool(props.get("RejectLevel")) and float(props["RejectLevel"]) != 0
    except ValueError:
        return True
    return tag_differs or reject_set


def _threshold_findings(facts: SpamFacts) -> list[Finding]:
    props = facts.props
    sensitivity = props.get("Sensitivity") or "medium (default)"
    levels, error = effective_thresholds(props)
    out: list[Finding] = []
    if error:
        return [Finding("SA002", Status.FAIL, f"Malformed SpamAssassin threshold in the db: {error}",
                        "Fix it with `smewizard spamassassin --tag N --reject N` (validated) or in the "
                        "server manager; nothing is proposed from a value we cannot read.", "Part 6")]
    assert levels is not None
    reject = "never" if not levels.rejects else format_threshold(levels.reject)
    out.append(Finding("SA001", Status.INFO,
                       f"Sensitivity {sensitivity}: tag at {format_threshold(levels.tag)}, reject {reject}",
                       "TagLevel marks mail as spam (X-Spam-Status) for the junkmail folder; "
                       "RejectLevel refuses it at SMTP time, 0 = never. Edit with `smewizard spamassassin "
                       "--tag 3.3 --reject 12` (guide Part 6).", "Part 6"))
    if _levels_ignored(props):
        out.append(Finding("SA003", Status.WARN,
                           "TagLevel/RejectLevel are set but Sensitivity is not custom, so SME ignores them",
                           "SME applies the custom levels only when `spamassassin Sensitivity` is "
                           "`custom` (Koozali wiki, Email page); the wizard's edit sets it.", "Part 6"))
    untrained = facts.bayes.state not in (BayesState.WELL_TRAINED,)
    if levels.rejects and levels.reject < SAFE_REJECT_UNTRAINED and untrained:
        out.append(Finding("SA004", Status.WARN,
                           f"RejectLevel {format_threshold(levels.reject)} is low while Bayes is not well trained",
                           "Without a trained Bayes corpus SpamAssassin scores less reliably, and a "
                           "rejected message is lost for good (the sender gets an SMTP error, you get "
                           "nothing). Keep RejectLevel at 8 or more (the guide suggests 10-15) until "
                           "Bayes is trained, or 0 to only tag (guide Part 6).", "Part 6"))
    if levels.rejects and levels.reject <= levels.tag:
        out.append(Finding("SA005", Status.FAIL,
                           f"RejectLevel {format_threshold(levels.reject)} is not above TagLevel "
                           f"{format_threshold(levels.tag)}",
                           "Mail would be refused before it is ever tagged; set RejectLevel above "
                           "TagLevel or to 0.", "Part 6"))
    return out


def _bayes_findings(facts: SpamFacts) -> list[Finding]:
    b = facts.bayes
    part = "Part 6"
    if b.state is BayesState.UNKNOWN:
        return [Finding("SA013", Status.UNKNOWN, "Bayes state unknown", b.detail, part)]
    if b.state is BayesState.NO_DATA:
        return [Finding("SA012", Status.WARN, "Bayes has no data yet",
                        "`sa-learn --dump magic` found no Bayes database. Train it with sa-learn "
                        "--spam / --ham on folders of real spam and ham; until then BAYES_* rules "
                        "do not fire (guide Part 6).", part)]
    m = b.magic
    assert m is not None
    counts = f"nspam {m.nspam:,}, nham {m.nham:,}, ntokens {m.ntokens:,}"
    if b.state is BayesState.INACTIVE:
        return [Finding("SA011", Status.WARN, f"Bayes not yet used ({counts})",
                        "SpamAssassin ignores Bayes until it has learnt at least 200 spam and 200 "
                        "ham messages. Keep training (guide Part 6).", part)]
    if b.state is BayesState.LEARNING:
        return [Finding("SA014", Status.INFO, f"Bayes active but below the guide's well-trained figures ({counts})",
                        "The guide's figures (20,000+ spam and 50,000+ ham tokens) are per class; "
                        "`--dump magic` gives one total, compared here with 70,000 (guide Part 6).", part)]
    return [Finding("SA010", Status.PASS, f"Bayes well trained ({counts})", "", part)]


def _blacklist_findings(facts: SpamFacts) -> list[Finding]:
    part = "Part 6"
    out: list[Finding] = []
    wrong_cmd = ("The guide's `db accounts set @domain badmailfrom Blacklisted yes` is not read by "
                 "any SME template we could find: it creates an accounts record that nothing uses. ")
    if facts.mechanism == "wbl":
        listing = ", ".join(facts.blacklist) or "empty"
        out.append(Finding("SA020", Status.INFO, f"Envelope blacklist (smeserver-wbl db): {listing}",
                           wrong_cmd + "This server has smeserver-wbl: entries are `Black` props of db "
                           "wbl record badmailfrom, rendered into /var/qmail/control/badmailfrom by "
                           "signal-event email-update. Add/remove with `smewizard spamassassin "
                           "--blacklist-add @bad.example` / `--blacklist-remove` (guide Part 6).", part))
    else:
        listing = ", ".join(facts.control_file) or "empty"
        out.append(Finding("SA021", Status.INFO, f"Envelope blacklist (generated file): {listing}",
                           wrong_cmd + "Without smeserver-wbl, /var/qmail/control/badmailfrom is "
                           "generated from templates: put entries (one `@domain` or address per "
                           f"line) in a custom fragment under {BADMAILFROM_CUSTOM}/ and run "
                           "signal-event email-update; never edit the generated file (guide Part 6).", part))
    if facts.guide_records:
        out.append(Finding("SA022", Status.WARN,
                           f"{len(facts.guide_records)} accounts-db badmailfrom record(s) have no effect: "
                           + ", ".join(facts.guide_records[:5]),
                           wrong_cmd + "Re-enter these senders through the real mechanism above.", part))
    return out


def _rules_findings(facts: SpamFacts) -> list[Finding]:
    where = (f"SME generates local.cf from {LOCAL_CF_TEMPLATE}/ on this server. "
             if facts.local_cf_template else "")
    custom = (f"A custom fragment directory exists ({LOCAL_CF_CUSTOM}/). " if facts.local_cf_custom else "")
    extra = (f"Other rule files present: {', '.join(facts.extra_cf)}. " if facts.extra_cf else "")
    return [Finding(
        "SA030", Status.INFO, "Custom SpamAssassin rules: use a template fragment, not local.cf",
        f"{LOCAL_CF} is generated and overwritten by signal-event (guide Part 6). " + where + custom + extra
        + "SME's general mechanism for lasting changes is a fragment in "
        f"{LOCAL_CF_CUSTOM}/ (e.g. 90smewizard_rules) followed by signal-event email-update; "
        "SpamAssassin also reads every other *.cf file in /etc/mail/spamassassin. Write meta "
        "rules that need several signals at once, for example:\n"
        "  header   __SW_REPLYTO_EXISTS exists:Reply-To\n"
        "  meta     SW_REPLYTO_MONEY (__SW_REPLYTO_EXISTS && __SW_MONEY && __SW_URGENT)\n"
        "  body     __SW_MONEY  /\\b(?:wire transfer|gift cards?|bank details)\\b/i\n"
        "  body     __SW_URGENT /\\b(?:urgent|today|immediately|confidential)\\b/i\n"
        "  score    SW_REPLYTO_MONEY 2.5\n"
        "Test new rules with `spamassassin -t < message` on saved spam and ham before relying on "
        "them (guide Parts 6 and 8).", "Part 6")]


def _clamav_findings(facts: SpamFacts) -> list[Finding]:
    hits = facts.qpsmtpd_log.spoofed_domain
    whitelist = (f" smeserver-wbl already lists whitelist_from senders: {', '.join(facts.whitelist_from)}."
                 if facts.whitelist_from else "")
    why = ("ClamAV's phishing heuristic fires when a link's visible text and its real domain "
           "differ, which bank and payment notifications sent through marketing platforms often do. "
           "Ignoring the signature (a `.ign2` entry) silences it for every message, including real "
           "phishing; whitelisting the specific legitimate senders (SpamAssassin whitelist_from, "
           "or the whitelist of smeserver-wbl) keeps the heuristic for everyone else. Confirm a "
           "hit with `clamscan --debug message.eml`, and do not edit generated files; the "
           "wizard changes nothing here (guide Part 7)." + whitelist)
    if facts.qpsmtpd_log.error:
        return [Finding("SA041", Status.UNKNOWN, "Could not read the qpsmtpd log for ClamAV hits",
                        facts.qpsmtpd_log.error + ". " + why, "Part 7")]
    if hits:
        return [Finding("SA040", Status.WARN, f"ClamAV {SPOOFED} rejected {hits} message(s) in the current qpsmtpd log",
                        why, "Part 7")]
    return [Finding("SA042", Status.INFO, f"No ClamAV {SPOOFED} rejections in the current qpsmtpd log",
                    why, "Part 7")]


def _bec_findings() -> list[Finding]:
    return [Finding(
        "SA050", Status.INFO, "Authentication passing is not proof of legitimacy (BEC)",
        "Attackers send through real, authenticated platforms (Microsoft/Dynamics invites, "
        "Firebase, compromised business accounts), so SPF/DKIM/DMARC pass. The tell-tale of "
        "Business Email Compromise is a Reply-To that differs from From:. Train staff (accounting "
        "first) to confirm payment changes by phone on a known number, distrust urgency and "
        "secrecy, and check Reply-To before answering; a meta rule like the one under SA030 can "
        "add score to Reply-To + money + urgency combinations (guide Part 8).", "Part 8")]


def _wordpress_findings(facts: SpamFacts) -> list[Finding]:
    part = "Part 9"
    q = facts.qmail_log
    out: list[Finding] = []
    advice = ("If this server hosts WordPress, contact forms can relay spam through PHPMailer as "
              "the server itself. Put a CAPTCHA (e.g. Cloudflare Turnstile) on every form, "
              "rate-limit form endpoints, block abusive IPs, disable xmlrpc.php when unused and keep "
              "a WAF (Wordfence) in enforced mode (guide Part 9).")
    if q.error:
        out.append(Finding("SA062", Status.UNKNOWN, "Could not read the qmail log for outbound volume",
                           q.error + ". " + advice, part))
    else:
        status = Status.INFO
        msg = (f"qmail log: {q.remote_deliveries} remote and {q.local_deliveries} local deliveries, "
               f"{q.bounces} bounce(s) in the current log ({q.lines} lines)")
        if q.remote_deliveries and q.bounces * 4 > q.remote_deliveries:
            status = Status.WARN
            msg += ": many bounces for the outbound volume"
        out.append(Finding("SA060", status, msg,
                           "Unexpected outbound volume and bounces for addresses you never wrote to "
                           "are the first signs of a form being abused. " + advice, part))
    if facts.wp_posts:
        total = sum(facts.wp_posts.values())
        detail = ", ".join(f"{k} {v}" for k, v in facts.wp_posts.items())
        out.append(Finding("SA061", Status.WARN if total >= 500 else Status.INFO,
                           f"{total} POST request(s) to WordPress form/XML-RPC endpoints in the Apache log",
                           f"{detail}. High-rate POSTs from unfamiliar IPs are an indicator of "
                           "form abuse. " + advice, part))
    return out


STEP = SpamAssassinStep()
