"""DKIM actions on the simulated root: keys are never readable by others at any moment, nothing
is overwritten or deleted, migration keeps the published record valid, undo puts things back,
and no private-key byte reaches the audit log, the journal, logs or output."""

from __future__ import annotations

import logging
import os
import shlex
import stat
import subprocess

import pytest

import smewizard.host.local as local_module
from smewizard.actions import dkim as acts
from smewizard.actions.apply import apply_actions
from smewizard.actions.base import ActionError, SignalEvent
from smewizard.actions.undo import find_run, plan_undo, undo_run
from smewizard.mail import dkim as mk
from smewizard.steps import dkim as step
from smewizard.steps.base import Context
from smewizard.steps.server import probe_server
from smewizard.validate import InvalidValue

STAMP = "20261125"


def real(sim, sme_path):
    return sim.root / sme_path.lstrip("/")


async def audit(sim, dns, only=()):
    ctx = Context(host=sim.host(), dns=dns, only_domains=tuple(only))
    facts = await step.STEP.probe(ctx, await probe_server(ctx))
    return facts, step.STEP.assess(facts)


def codes(assessment, domain=None):
    return {f.code for f in assessment.findings if domain is None or f.domain == domain}


@pytest.fixture
def watch_key_files(monkeypatch):
    """Record the mode and owner of every file the host creates, right after creation and
    right before its data is synced, as (path, phase, mode, uid)."""
    seen: list[tuple[str, str, int, int]] = []
    fds: dict[int, str] = {}
    real_open, real_fsync = os.open, os.fsync

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        fd = real_open(path, flags, mode, *args, **kwargs)
        if flags & os.O_CREAT:
            st = os.fstat(fd)
            fds[fd] = str(path)
            seen.append((str(path), "created", stat.S_IMODE(st.st_mode), st.st_uid))
        return fd

    def spy_fsync(fd):
        if fd in fds:
            st = os.stat(fds[fd])  # by path: what another user could open at this moment
            seen.append((fds[fd], "before-data-synced", stat.S_IMODE(st.st_mode), st.st_uid))
        return real_fsync(fd)

    monkeypatch.setattr(local_module.os, "open", spy_open)
    monkeypatch.setattr(local_module.os, "fsync", spy_fsync)
    return seen


def test_generated_key_is_never_readable_by_others_even_with_umask_000(sim_root, watch_key_files):
    sim = sim_root("fresh")
    host = sim.host()
    action = acts.GenerateDkimKey("example.com", "nov2026", STAMP, domain="example.com")
    old_umask = os.umask(0)
    try:
        action.execute(host)
    finally:
        os.umask(old_umask)
    key_events = [e for e in watch_key_files if os.path.basename(e[0]).startswith(".default.")]
    assert {phase for _, phase, _, _ in key_events} == {"created", "before-data-synced"}
    qpsmtpd_uid = host.uid_of("qpsmtpd")
    for path, phase, mode, uid in key_events:
        assert mode & 0o077 == 0, f"{path} had mode {mode:04o} when {phase}"
        if phase == "before-data-synced" and os.geteuid() == 0:
            assert (mode, uid) == (0o400, qpsmtpd_uid)
    key = host.stat("/home/e-smith/dkim_keys/example.com/default")
    assert (key.mode, key.owner, key.group) == (0o400, "qpsmtpd", "qpsmtpd")
    folder = host.stat("/home/e-smith/dkim_keys/example.com")
    assert folder.mode & 0o077 == 0 and folder.owner == "qpsmtpd"
    assert host.read_bytes("/home/e-smith/dkim_keys/example.com/selector") == b"nov2026\n"
    info = mk.inspect_private_key(host.read_bytes("/home/e-smith/dkim_keys/example.com/default"))
    assert info.ok and info.bits == 2048


def test_shell_is_what_an_admin_would_type_with_a_safe_umask():
    action = acts.GenerateDkimKey("example.com", "nov2026", STAMP)
    assert action.shell() == [
        "umask 077",
        "mkdir -p /home/e-smith/dkim_keys/example.com",
        "openssl genrsa -out /home/e-smith/dkim_keys/example.com/default 2048",
        "printf '%s\\n' nov2026 > /home/e-smith/dkim_keys/example.com/selector",
        "chown -R qpsmtpd:qpsmtpd /home/e-smith/dkim_keys/example.com",
        "chmod 400 /home/e-smith/dkim_keys/example.com/default",
    ]


@pytest.mark.parametrize(
    "kwargs",
    [dict(name="example.com", selector="Nov 2026"), dict(name="../etc", selector="nov2026"),
     dict(name="example.com", selector="-rf"), dict(name="example.com", selector="nov2026", stamp="x")],
)
def test_invalid_values_never_become_an_action(kwargs):
    kwargs.setdefault("stamp", STAMP)
    with pytest.raises(InvalidValue):
        acts.GenerateDkimKey(**kwargs)


def test_existing_key_is_refused_or_archived_never_overwritten(sim_root):
    sim = sim_root("good")
    host = sim.host()
    key_path = "/home/e-smith/dkim_keys/example.com/default"
    before = real(sim, key_path).read_bytes()
    with pytest.raises(ActionError, match="refusing to overwrite"):
        acts.GenerateDkimKey("example.com", "nov2026", STAMP).execute(host)
    assert real(sim, key_path).read_bytes() == before

    acts.GenerateDkimKey("example.com", "nov2026", STAMP, archive_existing=True).execute(host)
    archived = f"/home/e-smith/dkim_keys/example.com.OLD-backup-{STAMP}/default"
    assert real(sim, archived).read_bytes() == before
    assert real(sim, key_path).read_bytes() != before


async def test_migration_keeps_the_published_key_and_archives_the_old_folder(sim_dns):
    sim, dns = sim_dns("demo")
    host = sim.host()
    _, before = await audit(sim, dns, ["example.com"])
    assert "DKIM018" in codes(before)
    old_key = real(sim, "/etc/qpsmtpd/dkim/example.com/private").read_bytes()
    report = apply_actions(host, list(before.actions))
    assert report.ok, report
    assert real(sim, "/home/e-smith/dkim_keys/example.com/default").read_bytes() == old_key
    archives = [p for p in os.listdir(real(sim, "/etc/qpsmtpd/dkim")) if ".OLD-backup-" in p]
    assert len(archives) == 1 and (real(sim, "/etc/qpsmtpd/dkim") / archives[0] / "private").exists()
    key = host.stat("/home/e-smith/dkim_keys/example.com/default")
    assert (key.mode, key.owner) == (0o400, "qpsmtpd")
    facts, after = await audit(sim, dns, ["example.com"])
    assert {"DKIM025", "DKIM029"} <= codes(after), after.findings  # the feb2026 record still verifies
    assert step.predict(facts.domains[0]) is step.PluginOutcome.SIGN


async def test_generate_then_undo_moves_the_new_key_aside(sim_dns):
    sim, dns = sim_dns("fresh")
    host = sim.host()
    _, a = await audit(sim, dns)
    assert "DKIM001" in codes(a)
    report = apply_actions(host, list(a.actions))
    assert report.ok
    facts, after = await audit(sim, dns)
    assert "DKIM019" in codes(after)  # signing now; the record is what is left to do
    assert step.predict(facts.domains[0]) is step.PluginOutcome.SIGN
    plan = plan_undo(host, find_run(host, report.run_id))
    assert undo_run(host, plan).ok
    assert not host.exists("/home/e-smith/dkim_keys/example.com")
    aside = [e for e in host.list_dir("/home/e-smith/dkim_keys") if e.startswith("example.com.OLD-backup-")]
    assert aside, "undo must move the generated key aside, not delete it"


def test_permissions_fix_and_its_undo(sim_root):
    sim = sim_root("good")
    host = sim.host()
    key = "/home/e-smith/dkim_keys/example.com/default"
    os.chmod(real(sim, key), 0o644)
    os.chown(real(sim, key), 0, 0)
    action = acts.FixDkimKeyPermissions("example.com", "/home/e-smith/dkim_keys/example.com")
    undo = action.undo_actions(host)
    action.execute(host)
    st = host.stat(key)
    assert (st.mode, st.owner, st.group) == (0o400, "qpsmtpd", "qpsmtpd")
    for u in undo:
        u.execute(host)
    st = host.stat(key)
    assert (st.mode, st.owner) == (0o644, "root")


def test_selector_rewrite_keeps_the_old_bytes_for_undo(sim_root):
    sim = sim_root("demo")
    host = sim.host()
    path = "/home/e-smith/dkim_keys/example.org/selector"
    action = acts.WriteDkimSelector("example.org", "default")
    undo = action.undo_actions(host)
    action.execute(host)
    assert host.read_bytes(path) == b"default\n"
    undo[0].execute(host)
    assert host.read_bytes(path) == b"default\r\n"


def test_selector_undo_shows_a_one_line_command_that_writes_the_old_bytes_and_the_current_value(sim_root, tmp_path):
    sim = sim_root("demo")
    host = sim.host()
    path = "/home/e-smith/dkim_keys/example.org/selector"
    action = acts.WriteDkimSelector("example.org", "default")
    undo = action.undo_actions(host)[0]
    action.execute(host)
    assert undo.current(host) == repr("default\n")  # the preview's "from", not "(not set)"
    [line] = undo.shell()
    assert not any(ch in line for ch in "\r\n")  # a raw CR would break or overwrite the shown line
    target = tmp_path / "selector"
    shown = line.replace(shlex.quote(path), shlex.quote(str(target)))
    for shell in ("sh", "bash"):
        subprocess.run([shell, "-c", shown], check=True)
        assert target.read_bytes() == b"default\r\n"
    odd = acts.RestoreSelectorFile(path, "a\\b\tc\x01")
    subprocess.run(["sh", "-c", odd.shell()[0].replace(shlex.quote(path), shlex.quote(str(target)))], check=True)
    assert target.read_bytes() == b"a\\b\tc\x01"


def _key_fragments(sim) -> set[str]:
    """Every base64 line of every private key under the simulated root."""
    fragments: set[str] = set()
    for dirpath, _, files in os.walk(sim.root):
        for name in files:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                continue
            data = open(p, "rb").read()
            if b"PRIVATE KEY-----" in data:
                for line in data.decode().splitlines():
                    if line and not line.startswith("-----"):
                        fragments.add(line)
    return fragments


async def test_no_private_key_byte_in_logs_audit_journal_output_or_results(sim_dns, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    sim, dns = sim_dns("demo")
    host = sim.host()
    facts, a = await audit(sim, dns)
    actions = list(a.actions) + [acts.GenerateDkimKey("example.org", "nov2026", STAMP, archive_existing=True)]
    checks = [x for x in actions if isinstance(x, acts.VerifyDkimLinks)]
    actions = [x for x in actions if not isinstance(x, SignalEvent | acts.VerifyDkimLinks)]
    actions += [SignalEvent("email-update"), *checks]
    report = apply_actions(host, actions)
    assert report.ok, report
    facts2, a2 = await audit(sim, dns)
    out = capsys.readouterr()
    fragments = _key_fragments(sim)
    assert len(fragments) > 50
    texts = [caplog.text, out.out, out.err, repr(facts), repr(a), repr(facts2), repr(a2), repr(report)]
    texts += [" ".join(x.shell()) + x.summary() + str(x.current(host)) + str(x.target_value())
              for x in actions]
    for dirpath, _, files in os.walk(real(sim, "/var/log")):
        texts += [open(os.path.join(dirpath, f), encoding="utf-8", errors="replace").read() for f in files]
    blob = "\n".join(texts)
    assert "PRIVATE KEY" not in blob
    leaked = [f for f in fragments if f in blob]
    assert not leaked, f"{len(leaked)} private-key lines leaked"
    assert any("audit" in f for _, _, fs in os.walk(real(sim, "/var/log")) for f in fs)


def test_link_check_fails_the_apply_when_email_update_did_not_build_the_links(sim_root):
    sim = sim_root("fresh")  # DKIMSigning disabled: the event builds no links
    host = sim.host()
    acts.GenerateDkimKey("example.com", "nov2026", STAMP).execute(host)
    report = apply_actions(host, [SignalEvent("email-update"),
                                  acts.VerifyDkimLinks("example.com", "example.com")])
    assert not report.ok
    assert "links" in report.outcomes[-1].error and "DKIMSigning" in report.outcomes[-1].error


async def test_every_proposed_dkim_action_survives_a_plan_round_trip(sim_dns):
    from smewizard.actions.plan import action_from_json, action_to_json

    sim, dns = sim_dns("demo")
    _, a = await audit(sim, dns)
    extra = [acts.ActivateStagedDkimKey("example.com", STAMP), acts.MovePath("/a", "/b"),
             acts.RestoreOwnerMode("/a", "qpsmtpd", "qpsmtpd", 0o400),
             acts.RestoreSelectorFile("/a", "default\r\n"),
             acts.FixDkimKeyPermissions("example.com", "/home/e-smith/dkim_keys/example.com")]
    for action in [*a.actions, *extra]:
        assert action_from_json(action_to_json(action)) == action


def test_migrated_copy_of_an_exposed_key_is_never_reachable_by_others(sim_root, watch_key_files, monkeypatch):
    sim = sim_root("demo")
    host = sim.host()
    os.chmod(real(sim, "/etc/qpsmtpd/dkim/example.com/private"), 0o644)  # too open at the source
    seen = []
    real_rename = local_module.os.rename

    def spy_rename(src, dst, *a, **kw):
        if str(dst).endswith("/home/e-smith/dkim_keys/example.com"):
            parent = os.path.dirname(str(src))
            seen.append((stat.S_IMODE(os.stat(parent).st_mode), stat.S_IMODE(os.stat(os.path.join(src, "default")).st_mode)))
        return real_rename(src, dst, *a, **kw)

    monkeypatch.setattr(local_module.os, "rename", spy_rename)
    acts.MigrateDkimKeys("example.com", "/etc/qpsmtpd/dkim/example.com", STAMP).execute(host)
    assert seen == [(0o700, 0o400)]  # fixed inside a root-only folder, then moved into place
    assert host.stat("/home/e-smith/dkim_keys/example.com/default").mode == 0o400
    assert not [e for e in host.list_dir("/home/e-smith/dkim_keys") if "smewizard" in e]
