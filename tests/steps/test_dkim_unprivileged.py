"""DKIM step run by a real unprivileged user: key folders it may not enter are "unknown" with a
"re-run as root" hint, never "no key", and never lead to generating or migrating a key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

NOBODY = 65534


def _as_nobody(group: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [shutil.which("setpriv"), f"--reuid={NOBODY}", f"--regid={NOBODY}", f"--groups={group}",
         sys.executable, "-m", "smewizard", *args],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "HOME"} | {"HOME": "/"},
    )


@pytest.fixture
def unprivileged_check(auth_server):
    """`run(scenario, prepare=None) -> (dkim step JSON, sim)`: `check --json --step dkim` as
    user nobody on a root-built simulated server (db files readable by nobody's group)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to switch to an unprivileged user")
    from smewizard.sim import build_root

    top = Path(tempfile.mkdtemp(prefix="smewizard-dkim-ro-"))
    top.chmod(0o755)
    counter = iter(range(100))

    def run(scenario: str, prepare=None):
        sim = build_root(top / f"root{next(counter)}", scenario)
        sim.serve(auth_server)
        gid = (sim.root / "home/e-smith/db/configuration").stat().st_gid
        if _as_nobody(gid, "--version").returncode != 0:
            pytest.skip("an unprivileged user cannot run this Python")
        if prepare:
            prepare(sim.root)
        ns = f"{auth_server.address[0]}:{auth_server.address[1]}"
        done = _as_nobody(gid, "check", "--json", "--step", "dkim", "--root", str(sim.root),
                          "--nameserver", ns)
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)["steps"]["dkim"], sim

    try:
        yield run
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _findings(step: dict, domain: str) -> dict[str, dict]:
    return {f["code"]: f for f in step["findings"] if f["domain"] == domain}


def _key_actions(step: dict, domain: str) -> list[str]:
    return [a["summary"] for a in step["actions"]
            if a["domain"] == domain and a["action"] and a["action"]["type"] in
            ("GenerateDkimKey", "MigrateDkimKeys")]


def test_old_key_folder_that_cannot_be_read_is_unknown_not_a_missing_key(unprivileged_check):
    step, _ = unprivileged_check("demo")  # /etc/qpsmtpd/dkim/example.com is 0750 qpsmtpd
    found = _findings(step, "example.com")
    assert "DKIM001" not in found, found.get("DKIM001")
    assert found["DKIM026"]["status"] == "unknown"
    assert "/etc/qpsmtpd/dkim/example.com" in found["DKIM026"]["message"]
    assert "root" in found["DKIM026"]["explanation"]
    assert _key_actions(step, "example.com") == []


def test_unreadable_key_store_blocks_generation_for_every_domain(unprivileged_check):
    def lock_key_store(root: Path) -> None:
        (root / "home/e-smith/dkim_keys").chmod(0o700)

    step, _ = unprivileged_check("demo", lock_key_store)
    for domain in ("example.com", "example.org", "shop.example.net"):
        found = _findings(step, domain)
        assert "DKIM001" not in found and "DKIM002" not in found, (domain, found)
        assert found["DKIM026"]["status"] == "unknown", domain
        assert _key_actions(step, domain) == [], domain


def test_unreadable_default_folder_blocks_generation(unprivileged_check):
    def lock_default(root: Path) -> None:
        default = root / "home/e-smith/dkim_keys/default"
        default.mkdir()
        default.chmod(0o000)

    step, _ = unprivileged_check("demo", lock_default)
    found = _findings(step, "shop.example.net")  # no key of its own: default/ would be used
    assert "DKIM001" not in found and found["DKIM026"]["status"] == "unknown"
    assert _key_actions(step, "shop.example.net") == []


def test_configured_server_read_unprivileged_is_unknown_and_proposes_no_key(unprivileged_check):
    step, _ = unprivileged_check("good")  # links lead into key folders only qpsmtpd may enter
    for domain in ("example.com", "example.org"):
        found = _findings(step, domain)
        assert found["DKIM026"]["status"] == "unknown", (domain, found)
        assert not {"DKIM001", "DKIM015", "DKIM016"} & set(found), (domain, found)
        assert _key_actions(step, domain) == [], domain
