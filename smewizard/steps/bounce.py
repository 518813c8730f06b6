"""Bounces & junkmail step (guide Part 5): double bounces to devnull, and every user's Maildir
(especially `.junkmail/tmp`) owned by that user so local delivery cannot silently fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from smewizard import validate
from smewizard.actions import files
from smewizard.actions.base import Action, ActionError, SetProp, SignalEvent
from smewizard.host.base import Host, HostError, PermissionDenied
from smewizard.model import Assessment, Finding, Status
from smewizard.sme.config import USERS_HOME
from smewizard.steps.base import Context, ServerFacts

PART = "Part 5"
KEY = "bounce"

# Delivery into a Maildir writes tmp/ then links into new/; IMAP moves to cur/. The junkmail
# folder is the one SME's .qmail condredirect delivers spam into.
MAILDIR_PARTS = (
    "Maildir",
    "Maildir/cur",
    "Maildir/new",
    "Maildir/tmp",
    "Maildir/.junkmail",
    "Maildir/.junkmail/cur",
    "Maildir/.junkmail/new",
    "Maildir/.junkmail/tmp",
)


@dataclass(frozen=True)
class Chown(files.Chown):
    """The generic `chown -h USER:GROUP -- PATH` (undoable), refusing a path that vanished or
    became a symbolic link between the audit and the apply."""

    step: str = KEY

    def execute(self, host: Host) -> str:
        st = host.stat(self.path)
        if st is None:
            raise ActionError(f"{self.path} no longer exists; nothing changed")
        if st.is_symlink:
            raise ActionError(f"{self.path} is now a symbolic link; not changing it")
        super().execute(host)
        return f"{self.path}: {st.owner}:{st.group} -> {self.owner}:{self.group}"


class PathState(StrEnum):
    OK = "ok"
    WRONG_OWNER = "wrong-owner"
    MISSING = "missing"
    SYMLINK = "symlink"
    NOT_DIR = "not-a-directory"
    UNREADABLE = "unreadable"  # permission denied or other error: unknown, never an action


@dataclass(frozen=True)
class PathCheck:
    path: str
    state: PathState
    owner: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class UserAudit:
    user: str
    checks: tuple[PathCheck, ...]

    def with_state(self, state: PathState) -> list[PathCheck]:
        return [c for c in self.checks if c.state is state]


@dataclass(frozen=True)
class BounceFacts:
    double_bounce_to: str | None
    qmail_exists: bool
    users: tuple[UserAudit, ...]
    skipped_names: tuple[str, ...] = ()  # directory names that are not valid account names
    users_home_error: str | None = None
    elapsed: float = field(default=0.0, compare=False)


def audit_user(host: Host, user: str) -> UserAudit:
    """Check each Maildir part of one user; stop descending below a missing or odd parent."""
    checks: list[PathCheck] = []
    base = f"{USERS_HOME}/{user}"
    blocked: list[str] = []
    for part in MAILDIR_PARTS:
        path = f"{base}/{part}"
        if any(path.startswith(b + "/") for b in blocked):
            continue
        check = _check_path(host, path, user)
        checks.append(check)
        if check.state not in (PathState.OK, PathState.WRONG_OWNER):
            blocked.append(path)
    return UserAudit(user, tuple(checks))


def _check_path(host: Host, path: str, user: str) -> PathCheck:
    try:
        st = host.stat(path)
    except PermissionDenied as exc:
        return PathCheck(path, PathState.UNREADABLE, detail=str(exc))
    except HostError as exc:
        return PathCheck(path, PathState.UNREADABLE, detail=str(exc))
    if st is None:
        return PathCheck(path, PathState.MISSING)
    if st.is_symlink:
        return PathCheck(path, PathState.SYMLINK, st.owner, detail=f"link to {st.link_target}")
    if not st.is_dir:
        return PathCheck(path, PathState.NOT_DIR, st.owner)
    if st.owner != user:
        return PathCheck(path, PathState.WRONG_OWNER, st.owner)
    return PathCheck(path, PathState.OK, st.owner)


def user_names(host: Host, db_users: list[str]) -> tuple[list[str], list[str], str | None]:
    """Users to audit: the accounts db's users plus any directory under the users' home (the
    guide's loop walks the directory). Returns (valid names, skipped names, listing error)."""
    names = set(db_users)
    error = None
    try:
        names.update(host.list_dir(USERS_HOME))
    except HostError as exc:
        error = str(exc)
    valid, skipped = [], []
    for name in sorted(names):
        try:
            valid.append(validate.user_name(name))
        except validate.InvalidValue:
            skipped.append(name)
    return valid, skipped, error


def audit_all(host: Host, db_users: list[str]) -> tuple[list[UserAudit], list[str], str | None]:
    names, skipped, error = user_names(host, db_users)
    return [audit_user(host, name) for name in names], skipped, error


class BounceStep:
    key = KEY
    title = "Bounces & junkmail"
    parts = (PART,)

    async def probe(self, ctx: Context, server: ServerFacts) -> BounceFacts:
        import time

        config = server.config
        started = time.perf_counter()
        audits, skipped, error = await ctx.io(audit_all, ctx.host, [u.name for u in config.users])
        return BounceFacts(
            double_bounce_to=(config.qmail.get("DoubleBounceTo") or None),
            qmail_exists=config.configuration.get("qmail") is not None,
            users=tuple(audits),
            skipped_names=tuple(skipped),
            users_home_error=error,
            elapsed=time.perf_counter() - started,
        )

    def assess(self, facts: BounceFacts) -> Assessment:
        findings, actions = _double_bounce(facts)
        maildir_findings, chowns = _maildirs(facts)
        findings.extend(maildir_findings)
        actions.extend(chowns)
        return Assessment(KEY, tuple(findings), tuple(actions))


CHAIN = (
    "If a user's junkmail tmp folder (or another Maildir folder) is not owned by the user, "
    "qmail's local delivery of spam into it fails without anything visible to the user; "
    "qmail-send then generates a bounce, the bounce is created outside qpsmtpd so it is "
    "never DKIM-signed, and when it reaches the (often forged) sender's server it fails DMARC "
    "and hurts your domain's reputation (guide Part 5)."
)


def _double_bounce(facts: BounceFacts) -> tuple[list[Finding], list[Action]]:
    value = (facts.double_bounce_to or "").strip()
    if value.lower() == "devnull":
        return [
            Finding("BNC001", Status.PASS, "Double bounces are discarded (DoubleBounceTo devnull)", "", PART)
        ], []
    shown = f"{value} (DoubleBounceTo)" if value else "postmaster (DoubleBounceTo unset: the SME default)"
    why = (
        "qmail-send generates double bounces itself, outside qpsmtpd, so they are never "
        "DKIM-signed; sent on, they fail DKIM/DMARC at the receiver and produce reports against "
        "your domain. They are almost always backscatter from forged senders. Route them to "
        "devnull; single bounces to real senders are unaffected (guide Part 5)."
    )
    return [
        Finding("BNC002", Status.WARN, f"Double bounces go to {shown}", why, PART)
    ], [
        SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step=KEY, record_type="service",
                why="discard unsigned double bounces"),
        SignalEvent("email-update", step=KEY),
    ]


def _maildirs(facts: BounceFacts) -> tuple[list[Finding], list[Action]]:
    findings: list[Finding] = []
    actions: list[Action] = []
    if facts.users_home_error:
        findings.append(
            Finding("BNC007", Status.UNKNOWN, f"Could not list {USERS_HOME}", facts.users_home_error, PART)
        )
    wrong = [(u, c) for u in facts.users for c in u.with_state(PathState.WRONG_OWNER)]
    for audit, check in wrong:
        findings.append(
            Finding(
                "BNC003",
                Status.FAIL,
                f"{check.path} is owned by {check.owner}, not {audit.user}",
                CHAIN,
                PART,
            )
        )
        actions.append(Chown(check.path, audit.user, audit.user))
    unreadable = [(u, c) for u in facts.users for c in u.with_state(PathState.UNREADABLE)]
    if unreadable:
        users = sorted({u.user for u, _ in unreadable})
        findings.append(
            Finding(
                "BNC004",
                Status.UNKNOWN,
                f"Could not inspect the Maildir of {len(users)} user(s): {_few(users)}",
                "Permission denied or read error (run as root); ownership is unknown there and "
                "nothing is proposed. First error: " + unreadable[0][1].detail,
                PART,
            )
        )
    missing = [(u, c) for u in facts.users for c in u.with_state(PathState.MISSING)]
    if missing:
        paths = [c.path for _, c in missing]
        findings.append(
            Finding(
                "BNC005",
                Status.WARN,
                f"{len(paths)} Maildir folder(s) missing: {_few(paths)}",
                "Delivery into a missing folder fails and bounces like a wrongly owned one. A "
                "missing .junkmail is created by SME when the user is (re)saved in the server "
                "manager; nothing is created automatically here. " + CHAIN,
                PART,
            )
        )
    odd = [(u, c) for u in facts.users for c in u.checks if c.state in (PathState.SYMLINK, PathState.NOT_DIR)]
    if odd:
        findings.append(
            Finding(
                "BNC006",
                Status.WARN,
                f"{len(odd)} Maildir path(s) are links or not directories: {_few([c.path for _, c in odd])}",
                "Left alone: check these by hand; the wizard never changes ownership through a "
                "link.",
                PART,
            )
        )
    checked = len(facts.users)
    if checked and not wrong and not missing and not odd and not unreadable:
        findings.append(
            Finding(
                "BNC008",
                Status.PASS,
                f"Maildir ownership correct for all {checked} user(s)",
                f"{sum(len(u.checks) for u in facts.users)} folders checked.",
                PART,
            )
        )
    elif not checked and not facts.users_home_error:
        findings.append(Finding("BNC009", Status.INFO, "No user accounts to audit", "", PART))
    return findings, actions


def _few(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


STEP = BounceStep()
