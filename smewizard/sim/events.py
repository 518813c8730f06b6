"""SME's `signal-event` for a simulated root: the handlers the wizard depends on.

`email-update` regenerates, from the dbs and /home/e-smith/dkim_keys:
- /var/service/qpsmtpd/config/dkim/<domain>/{selector,private}: links to the domain's key files
  (or the server-wide dkim_keys/default/ ones) — only while qpsmtpd DKIMSigning is enabled
  (guide Part 2: keys, DKIMSigning and the event are all needed). The link layout is an
  ASSUMPTION (docs/sme-v10.md): each domain gets a real directory, never a link to one,
  because the upstream dkim plugin takes the signing domain from a linked directory's name.
- /var/service/qpsmtpd/config/plugins (dkim and spamassassin lines), config/me;
- /var/qmail/control/{me,helohost,doublebounceto,badmailfrom};
- /etc/mail/spamassassin/local.cf (required_score from TagLevel).
Each handler's start and end is logged to the simulated /var/log/messages; the exit status is
0, or 1 when any handler failed (as SME's signal-event).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from smewizard import validate
from smewizard.sim import syslog
from smewizard.sim.dbfile import SimDbFile
from smewizard.sme.db import Db, parse_db

DKIM_KEYS = "home/e-smith/dkim_keys"
QPSMTPD_CONFIG = "var/service/qpsmtpd/config"
QMAIL_CONTROL = "var/qmail/control"
SA_LOCAL_CF = "etc/mail/spamassassin/local.cf"


class HandlerFailed(Exception):
    """An event handler could not do its job (the event then exits 1)."""


# ---------------------------------------------------------------- db access
def _db(root: Path, name: str) -> Db:
    path = SimDbFile(root, name).path
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return Db(name=name, records={})
    return parse_db(name, text)


def _value(db: Db, key: str) -> str | None:
    rec = db.get(key)
    return rec.type.strip() if rec and rec.type.strip() else None


def hosted_domains(root: Path) -> list[str]:
    """DomainName plus every `domain` record of the domains db, primary first."""
    primary = (_value(_db(root, "configuration"), "DomainName") or "").lower()
    others = {r.key.lower() for r in _db(root, "domains").of_type("domain")}
    others.discard(primary)
    return ([primary] if primary else []) + sorted(others)


# ---------------------------------------------------------------- file helpers
def _write(
    path: Path, text: str, mode: int = 0o644, owner: str | None = None, root: Path | None = None
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if _same_text(path, text):
        # esmith::templates::processTemplate compares the new text with the file's and leaves an
        # unchanged file alone: its mtime does not move (docs/sme-v10.md A4)
        os.chmod(path, mode)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o700)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        if owner and root is not None:
            _chown_fd(fh.fileno(), root, owner)
        os.fchmod(fh.fileno(), mode)
        fh.write(text)
    os.replace(tmp, path)


def _same_text(path: Path, text: str) -> bool:
    try:
        return not path.is_symlink() and path.read_bytes() == text.encode("utf-8")
    except OSError:
        return False


def _ids(root: Path, name: str) -> tuple[int, int] | None:
    """uid/gid of `name` in the simulated root's own /etc/passwd."""
    try:
        for line in (root / "etc/passwd").read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if len(fields) >= 4 and fields[0] == name:
                return int(fields[2]), int(fields[3])
    except (OSError, ValueError):
        return None
    return None


def _chown_fd(fd: int, root: Path, owner: str) -> None:
    ids = _ids(root, owner)
    if ids and os.geteuid() == 0:
        os.fchown(fd, *ids)


def _chown_path(path: Path, root: Path, owner: str) -> None:
    ids = _ids(root, owner)
    if ids and os.geteuid() == 0:
        os.lchown(path, *ids)


# ---------------------------------------------------------------- email-update handlers
def update_dkim_links(root: Path) -> None:
    """Rebuild config/dkim/<domain>/{selector,private} links from /home/e-smith/dkim_keys."""
    config = _db(root, "configuration")
    dkim_dir = root / QPSMTPD_CONFIG / "dkim"
    wanted = _wanted_dkim_links(root, config) if (
        (config.prop("qpsmtpd", "DKIMSigning") or "").lower() == "enabled") else {}
    # like a template expansion, only what differs is touched: a run with nothing changed
    # leaves every mtime where it was (verify's VER006 compares log times with them)
    _clear_generated(dkim_dir, keep=wanted)
    dkim_dir.mkdir(parents=True, exist_ok=True)
    for domain, links in wanted.items():
        target = dkim_dir / domain
        if _links_of(target) == links:
            continue
        target.mkdir(mode=0o750)
        _chown_path(target, root, "qpsmtpd")
        for name, source in links.items():
            os.symlink(source, target / name)


def _wanted_dkim_links(root: Path, config) -> dict[str, dict[str, str]]:
    keys = root / DKIM_KEYS
    wanted: dict[str, dict[str, str]] = {}
    for domain in hosted_domains(root):
        if not _is_domain(domain):
            continue  # never let a hostile db key become a path
        source = keys / domain if (keys / domain).is_dir() else keys / "default"
        if source.is_dir():
            wanted[domain] = {"selector": str(source / "selector"), "private": str(source / "default")}
    return wanted


def _links_of(directory: Path) -> dict[str, str] | None:
    """{name: link target} of a directory holding only links; None if it is anything else."""
    if directory.is_symlink() or not directory.is_dir():
        return None
    children = list(directory.iterdir())
    if not all(child.is_symlink() for child in children):
        return None
    return {child.name: os.readlink(child) for child in children}


def _clear_generated(dkim_dir: Path, keep: dict[str, dict[str, str]]) -> None:
    """Remove what a previous email-update generated (links, and directories of links), except
    the domain folders that already hold exactly the links wanted (`keep`)."""
    if not dkim_dir.is_dir():
        return
    for entry in dkim_dir.iterdir():
        if entry.is_symlink() or entry.is_file():
            entry.unlink()
        elif entry.is_dir() and (links := _links_of(entry)) is not None and links != keep.get(entry.name):
            shutil.rmtree(entry)


def _is_domain(name: str) -> bool:
    try:
        return validate.domain_name(name) == name
    except validate.InvalidValue:
        return False


def update_qpsmtpd_plugins(root: Path) -> None:
    config = _db(root, "configuration")
    signing = (config.prop("qpsmtpd", "DKIMSigning") or "").lower() == "enabled"
    # every Sensitivity preset means "no rejection"; RejectLevel counts only with `custom`
    # (Koozali wiki Email; docs/sme-v10.md A3)
    custom = (config.prop("spamassassin", "Sensitivity") or "").lower() == "custom"
    reject = _number(config.prop("spamassassin", "RejectLevel"), 0.0) if custom else 0.0
    lines = [
        "# plugins: generated by email-update",
        "hosts_allow",
        "dnsbl",
        "rhsbl",
        "resolvable_fromhost",
        "badmailfrom",
        "check_goodrcptto",
        "auth/auth_cvm_unix_local",
        "spamassassin" + (f" reject_threshold {_fmt(reject)}" if reject > 0 else ""),
        "virus/clamdscan",
    ]
    if signing:
        lines.append("dkim")
    lines += ["logging/logterse", "queue/qmail-queue"]
    _write(root / QPSMTPD_CONFIG / "plugins", "\n".join(lines) + "\n")


def update_helo(root: Path) -> None:
    """qpsmtpd `me` and qmail `helohost`: HeloHost (qpsmtpd, then smtpd key), else the FQDN
    for `me` and the bare DomainName for helohost (SME 7/8 template behaviour)."""
    config = _db(root, "configuration")
    domain = _value(config, "DomainName") or "localdomain"
    system = _value(config, "SystemName") or "sme-server"
    fqdn = f"{system}.{domain}"
    helo = (config.prop("qpsmtpd", "HeloHost") or config.prop("smtpd", "HeloHost") or "").strip()
    _write(root / QPSMTPD_CONFIG / "me", (helo or fqdn) + "\n")
    _write(root / QMAIL_CONTROL / "me", fqdn + "\n")
    _write(root / QMAIL_CONTROL / "helohost", (helo or domain) + "\n")


def update_doublebounceto(root: Path) -> None:
    target = (_db(root, "configuration").prop("qmail", "DoubleBounceTo") or "postmaster").strip()
    _write(root / QMAIL_CONTROL / "doublebounceto", target + "\n")


def update_spamassassin(root: Path) -> None:
    """SME's `local.cf/10required_score`: TagLevel only when Sensitivity is `custom`, else the
    preset; minus 0.01 since SME 8 (docs/sme-v10.md A3)."""
    config = _db(root, "configuration")
    sensitivity = (config.prop("spamassassin", "Sensitivity") or "medium").lower()
    if sensitivity == "custom":
        hits = _number(config.prop("spamassassin", "TagLevel"), 0.0)
    else:
        hits = _SENSITIVITY.get(sensitivity, 5.0)
    text = (
        "# local.cf: generated by email-update\n"
        f"required_score {_fmt(round(hits - 0.01, 2))}\n"
        "rewrite_header Subject [SPAM]\n"
        "report_safe 0\n"
        "use_bayes 1\n"
        "bayes_auto_learn 1\n"
    )
    _write(root / SA_LOCAL_CF, text)


def update_badmailfrom(root: Path) -> None:
    """From the smeserver-wbl add-on's db (`wbl`, record `badmailfrom`, `<address>=Black`),
    when that db exists; otherwise the generated file is left as it is."""
    wbl_path = SimDbFile(root, "wbl").path
    if not wbl_path.exists():
        return
    record = _db(root, "wbl").get("badmailfrom")
    entries = sorted(k for k, v in (record.props if record else {}).items() if v == "Black")
    _write(root / QMAIL_CONTROL / "badmailfrom", "".join(e + "\n" for e in entries))


_SENSITIVITY = {"veryhigh": 2.0, "high": 3.0, "medium": 5.0, "low": 7.0, "verylow": 9.0}


def _number(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


# ---------------------------------------------------------------- pseudonym-create
def pseudonym_alias(root: Path, name: str) -> None:
    """Write qmail's alias file for a pseudonym (`&<account>`); fails if the pseudonym record
    is missing or has no Account (SME's handler would find nothing to do)."""
    record = _db(root, "accounts").get(name)
    if record is None or record.type != "pseudonym" or not record.props.get("Account"):
        raise HandlerFailed(f"no pseudonym {name!r} with an Account in the accounts db")
    alias = root / "var/qmail/alias" / (".qmail-" + name.replace(".", ":"))
    _write(alias, f"&{record.props['Account']}\n")


def pseudonym_alias_remove(root: Path, name: str) -> None:
    """After the record was deleted (SME deletes it, then signals pseudonym-delete)."""
    alias = root / "var/qmail/alias" / (".qmail-" + name.replace(".", ":"))
    alias.unlink(missing_ok=True)


# ---------------------------------------------------------------- dispatch
Handler = Callable[[Path, Sequence[str]], None]

EVENTS: dict[str, list[tuple[str, Handler]]] = {
    "email-update": [
        ("S05generic_template_expand-qpsmtpd-plugins", lambda r, a: update_qpsmtpd_plugins(r)),
        ("S10qpsmtpd-dkim-links", lambda r, a: update_dkim_links(r)),
        ("S15generic_template_expand-helo", lambda r, a: update_helo(r)),
        ("S20generic_template_expand-doublebounceto", lambda r, a: update_doublebounceto(r)),
        ("S25generic_template_expand-badmailfrom", lambda r, a: update_badmailfrom(r)),
        ("S30generic_template_expand-spamassassin", lambda r, a: update_spamassassin(r)),
        ("S90adjust-services", lambda r, a: None),
    ],
    "pseudonym-create": [("S10pseudonym-alias", lambda r, a: _each(r, a, pseudonym_alias))],
    "pseudonym-modify": [("S10pseudonym-alias", lambda r, a: _each(r, a, pseudonym_alias))],
    "pseudonym-delete": [("S10pseudonym-alias", lambda r, a: _each(r, a, pseudonym_alias_remove))],
}


def _each(root: Path, args: Sequence[str], handler: Callable[[Path, str], None]) -> None:
    if not args:
        raise HandlerFailed("no account name given")
    for name in args:
        handler(root, name)


def signal_event(root: Path, event: str, args: Sequence[str] = ()) -> int:
    """Run `event`'s handlers in name order; 0 when all succeeded, 1 otherwise."""
    root = Path(root).resolve()
    handlers = EVENTS.get(event)
    if handlers is None:
        syslog.log(root, "esmith::event", f"Event {event}: no such event")
        return 1
    syslog.log(root, "esmith::event", f"Processing event: {event} {' '.join(args)}".rstrip())
    failed = False
    for name, handler in sorted(handlers, key=lambda h: h[0]):
        start = time.time()
        syslog.log(
            root, "esmith::event", f"Running event handler: /etc/e-smith/events/{event}/{name}"
        )
        try:
            handler(root, args)
            status = "ok"
        except (HandlerFailed, OSError) as exc:
            failed = True
            status = f"failed: {exc}"
        syslog.log(
            root,
            "esmith::event",
            f"{name}=action|Event|{event}|Action|{name}|Start|{start:.0f}|End|{time.time():.0f}|Status|{status}",
        )
    syslog.log(root, "esmith::event", f"Finished event: {event} ({'failed' if failed else 'ok'})")
    return 1 if failed else 0


def main(argv: Sequence[str], *, root: str) -> int:
    """Entry point of the `signal-event` shim."""
    if not argv:
        sys.stderr.write("usage: signal-event <event> [args...]\n")
        return 1
    return signal_event(Path(root), argv[0], argv[1:])


__all__ = ["EVENTS", "HandlerFailed", "hosted_domains", "main", "signal_event", "update_dkim_links"]
