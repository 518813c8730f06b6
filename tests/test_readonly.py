"""Read-only mode: without the right to change the server the wizard still audits everything,
marks each proposed change "needs root", says how to re-run, and changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from smewizard.actions.apply import apply_actions, format_preview, preview
from smewizard.actions.base import SetProp
from smewizard.actions.plan import dump_plan
from smewizard.readonly import WriteAccess, rerun_hint, write_access

NOBODY = 65534


class ReadOnlyHost:
    """A host that says the wizard may not change it (as SshHost does for a non-root login)."""

    description = "read-only test host"

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def is_privileged(self) -> bool:
        return False


def test_unprivileged_host_is_read_only_with_a_rerun_hint(sim_root):
    host = ReadOnlyHost(sim_root("demo").host())
    access = write_access(host, ["apply", "--step", "dkim"])
    assert not access.allowed
    assert "sudo smewizard apply --step dkim" in access.message
    assert "ssh root@" in access.message


def test_preview_marks_actions_needs_root_and_apply_refuses_changing_nothing(sim_root):
    sim = sim_root("demo")
    host = ReadOnlyHost(sim.host())
    before = (sim.root / "home/e-smith/db/configuration").read_bytes()
    action = SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim")
    items = preview(host, [action])
    assert items[0].needs_root and items[0].current == "disabled" and items[0].target == "enabled"
    assert "(needs root)" in format_preview(items)
    report = apply_actions(host, [action])
    assert not report.ok and report.outcomes == () and "Read-only mode" in report.refused
    assert (sim.root / "home/e-smith/db/configuration").read_bytes() == before
    assert not (sim.root / "var/log/smewizard").exists()


def test_rerun_hint_quotes_arguments():
    assert "sudo smewizard apply --plan 'my plan.json'" in rerun_hint(["apply", "--plan", "my plan.json"])


def test_allowed_access_has_no_message():
    assert WriteAccess(True).message == ""


# ------------------------------------------------------------------ as a real unprivileged user
def _as_nobody(group: int, *args: str) -> subprocess.CompletedProcess:
    setpriv = shutil.which("setpriv")
    return subprocess.run(
        [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", f"--groups={group}",
         sys.executable, "-m", "smewizard", *args],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "HOME"} | {"HOME": "/"},
    )


@pytest.fixture
def shared_sim(auth_server):
    """A root-owned demo server in a world-readable directory, served on the loopback DNS."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to switch to an unprivileged user")
    from smewizard.sim import build_root

    top = Path(tempfile.mkdtemp(prefix="smewizard-ro-"))
    try:
        top.chmod(0o755)
        sim = build_root(top / "root", "demo")
        sim.serve(auth_server)
        admin_gid = (sim.root / "home/e-smith/db/configuration").stat().st_gid
        probe = _as_nobody(admin_gid, "--version")
        if probe.returncode != 0:
            pytest.skip(f"an unprivileged user cannot run this Python: {probe.stderr.strip()[:200]}")
        yield sim, admin_gid, f"{auth_server.address[0]}:{auth_server.address[1]}"
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_check_as_unprivileged_admin_shows_findings_and_needs_root(shared_sim):
    sim, gid, ns = shared_sim
    text = _as_nobody(gid, "check", "--root", str(sim.root), "--nameserver", ns)
    assert text.returncode in (0, 1), text.stderr
    assert "DKIM" in text.stdout and "(needs root)" in text.stdout
    assert "Read-only mode" in text.stdout and "sudo smewizard" in text.stdout
    data = json.loads(_as_nobody(gid, "check", "--json", "--root", str(sim.root), "--nameserver", ns).stdout)
    actions = [a for step in data["steps"].values() for a in step["actions"]]
    assert actions and all(a["needs_root"] for a in actions)
    assert data["read_only"]["rerun"].startswith("To apply them, re-run as root")


def test_apply_as_unprivileged_user_refuses_and_changes_nothing(shared_sim):
    sim, gid, ns = shared_sim
    plan = Path(tempfile.mkdtemp(prefix="smewizard-plan-")) / "plan.json"
    plan.parent.chmod(0o755)
    plan.write_text(dump_plan([SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim")]))
    plan.chmod(0o644)
    before = (sim.root / "home/e-smith/db/configuration").read_bytes()
    try:
        dry = _as_nobody(gid, "apply", "--root", str(sim.root), "--plan", str(plan), "--dry-run")
        assert dry.returncode == 0 and "(needs root)" in dry.stdout and "from: disabled" in dry.stdout
        refused = _as_nobody(gid, "apply", "--root", str(sim.root), "--plan", str(plan), "--yes")
        assert refused.returncode == 3
        assert "Read-only mode" in refused.stderr and "sudo smewizard apply" in refused.stderr
    finally:
        shutil.rmtree(plan.parent, ignore_errors=True)
    assert (sim.root / "home/e-smith/db/configuration").read_bytes() == before
    assert not (sim.root / "var/log/smewizard").exists()
