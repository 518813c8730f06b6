"""Bounces & junkmail step on a minimal SME root with real file ownership (needs root to
create wrongly owned folders; those tests skip otherwise)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from smewizard.actions.apply import apply_actions
from smewizard.actions.base import SetProp
from smewizard.dns import Dns
from smewizard.host import LocalHost
from smewizard.host.base import PermissionDenied
from smewizard.model import Status
from smewizard.steps.base import Context
from smewizard.steps.bounce import (
    MAILDIR_PARTS,
    STEP,
    BounceFacts,
    Chown,
    PathCheck,
    PathState,
    UserAudit,
)
from smewizard.steps.server import probe_server
from smewizard.validate import InvalidValue

USERS = {"alice": 5001, "bob": 5002}
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating foreign-owned folders needs root")


def make_root(tmp_path: Path, double_bounce: str | None = None, users=USERS) -> Path:
    db = tmp_path / "home/e-smith/db"
    db.mkdir(parents=True)
    qmail = "qmail=service" + (f"|DoubleBounceTo|{double_bounce}" if double_bounce else "")
    (db / "configuration").write_text(f"DomainName=example.com\nSystemName=mail\n{qmail}\n")
    (db / "domains").write_text("example.com=domain\n")
    (db / "accounts").write_text("".join(f"{u}=user|FirstName|{u}\n" for u in users) + "admin=system\n")
    etc = tmp_path / "etc"
    etc.mkdir()
    (tmp_path / "var/log").mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0::/root:/bin/sh\n" + "".join(f"{u}:x:{i}:{i}::/h:/bin/false\n" for u, i in users.items()))
    (etc / "group").write_text("root:x:0:\n" + "".join(f"{u}:x:{i}:\n" for u, i in users.items()))
    for user, uid in users.items():
        for part in MAILDIR_PARTS:
            path = tmp_path / "home/e-smith/files/users" / user / part
            path.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(path, uid, uid)
    return tmp_path


def run(host) -> tuple[BounceFacts, object]:
    ctx = Context(host=host, dns=Dns([("127.0.0.1", 9)], timeout=0.2), public_ips=("203.0.113.10",))

    async def go():
        server = await probe_server(ctx)
        facts = await STEP.probe(ctx, server)
        return facts, STEP.assess(facts)

    return asyncio.run(go())


def codes(assessment) -> dict[str, Status]:
    return {f.code: f.status for f in assessment.findings}


def test_double_bounce_default_proposes_devnull(tmp_path):
    _, result = run(LocalHost(make_root(tmp_path)))
    assert codes(result)["BNC002"] is Status.WARN
    assert result.actions[0] == SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", step="bounce", record_type="service")
    finding = next(f for f in result.findings if f.code == "BNC002")
    assert "never DKIM-signed" in finding.explanation
    assert finding.message == "Double bounces go to postmaster (DoubleBounceTo unset: the SME default)"


def test_the_catalogue_quotes_the_double_bounce_message_as_shown(tmp_path):
    """docs/finding-codes.md is where an admin looks a code up: its BNC002 row quotes the
    message the step shows, not an older paraphrase of it."""
    _, result = run(LocalHost(make_root(tmp_path)))
    message = next(f.message for f in result.findings if f.code == "BNC002")
    catalogue = (Path(__file__).resolve().parents[2] / "docs/finding-codes.md").read_text()
    row = next(line for line in catalogue.splitlines() if line.startswith("| BNC002 |"))
    assert f'"{message}"' in row


def test_double_bounce_devnull_passes(tmp_path):
    _, result = run(LocalHost(make_root(tmp_path, double_bounce="devnull")))
    assert codes(result)["BNC001"] is Status.PASS


@needs_root
def test_all_owned_correctly_passes(tmp_path):
    _, result = run(LocalHost(make_root(tmp_path, double_bounce="devnull")))
    assert codes(result)["BNC008"] is Status.PASS
    assert result.actions == ()


@needs_root
def test_root_owned_junkmail_tmp_gets_one_chown_and_apply_fixes_it(tmp_path):
    root = make_root(tmp_path, double_bounce="devnull")
    bad = root / "home/e-smith/files/users/bob/Maildir/.junkmail/tmp"
    bad2 = root / "home/e-smith/files/users/bob/Maildir/new"
    os.chown(bad, 0, 0)
    os.chown(bad2, 0, 0)
    host = LocalHost(root)
    _, result = run(host)
    assert [f.code for f in result.findings if f.status is Status.FAIL] == ["BNC003", "BNC003"]
    assert sorted(a.shell()[0] for a in result.actions) == [
        "chown -h bob:bob -- /home/e-smith/files/users/bob/Maildir/.junkmail/tmp",
        "chown -h bob:bob -- /home/e-smith/files/users/bob/Maildir/new",
    ]
    undo = [u for a in result.actions for u in a.undo_actions(host)]
    report = apply_actions(host, result.actions)
    assert report.ok
    assert bad.stat().st_uid == 5002 and bad2.stat().st_uid == 5002
    _, after = run(host)
    assert "BNC003" not in codes(after) and codes(after)["BNC008"] is Status.PASS
    assert apply_actions(host, undo).ok  # undo data restores the previous owner
    assert bad.stat().st_uid == 0


@needs_root
def test_missing_junkmail_is_warned_without_action(tmp_path):
    root = make_root(tmp_path, double_bounce="devnull")
    for sub in ("cur", "new", "tmp"):
        (root / f"home/e-smith/files/users/alice/Maildir/.junkmail/{sub}").rmdir()
    (root / "home/e-smith/files/users/alice/Maildir/.junkmail").rmdir()
    _, result = run(LocalHost(root))
    assert codes(result)["BNC005"] is Status.WARN
    assert result.actions == ()


@needs_root
def test_symlinked_folder_is_never_chowned(tmp_path):
    root = make_root(tmp_path, double_bounce="devnull")
    tmp = root / "home/e-smith/files/users/alice/Maildir/.junkmail/tmp"
    tmp.rmdir()
    tmp.symlink_to("/tmp")
    _, result = run(LocalHost(root))
    assert codes(result)["BNC006"] is Status.WARN
    assert result.actions == ()


class DeniedHost(LocalHost):
    """A host where one user's Maildir cannot be inspected (as for a non-root wizard)."""

    def stat(self, path):
        if "/users/bob/" in path:
            raise PermissionDenied(f"cannot inspect {path}: Permission denied")
        return super().stat(path)


@needs_root
def test_permission_error_is_unknown_and_never_a_chown(tmp_path):
    root = make_root(tmp_path, double_bounce="devnull")
    os.chown(root / "home/e-smith/files/users/bob/Maildir/.junkmail/tmp", 0, 0)
    _, result = run(DeniedHost(root))
    found = codes(result)
    assert found["BNC004"] is Status.UNKNOWN
    assert "BNC003" not in found and "BNC008" not in found
    assert not any(isinstance(a, Chown) for a in result.actions)


def test_assess_unreadable_only_gives_unknown():
    facts = BounceFacts(
        "devnull", True,
        (UserAudit("carol", (PathCheck("/home/e-smith/files/users/carol/Maildir", PathState.UNREADABLE, detail="denied"),)),),
    )
    result = STEP.assess(facts)
    assert result.actions == ()
    assert codes(result) == {"BNC001": Status.PASS, "BNC004": Status.UNKNOWN}


def test_chown_rejects_unsafe_values():
    with pytest.raises(InvalidValue):
        Chown("/home/e-smith/files/users/../../etc", "bob", "bob")
    with pytest.raises(InvalidValue):
        Chown("/home/e-smith/files/users/bob/Maildir", "-R", "bob")


def test_invalid_directory_names_are_skipped_not_chowned(tmp_path):
    root = make_root(tmp_path, double_bounce="devnull", users={})
    (root / "home/e-smith/files/users/Bad Name/Maildir").mkdir(parents=True)
    facts, result = run(LocalHost(root))
    assert facts.skipped_names == ("Bad Name",)
    assert result.actions == ()
