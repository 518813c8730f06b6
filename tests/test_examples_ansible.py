"""examples/ansible: the playbooks are valid and really collect `check --json` per server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ansible"
PLAYBOOKS = ("check.yml", "check-from-control-node.yml")
VENV_BIN = Path(sys.executable).parent


def ansible_playbook() -> str:
    found = shutil.which("ansible-playbook", path=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip("ansible-core is not installed (pip install -e '.[test]')")
    return found


def ansible_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_HOST_KEY_CHECKING": "False"}


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_playbook_is_yaml_running_the_read_only_json_check(name):
    plays = yaml.safe_load((EXAMPLES / name).read_text())
    [play] = plays
    assert play["hosts"] == "sme"
    [run] = [t for t in play["tasks"] if "ansible.builtin.command" in t]
    argv = run["ansible.builtin.command"]["argv"]
    assert "'check', '--json'" in argv and "apply" not in argv
    assert run["failed_when"] == "smewizard_check.rc not in [0, 1]"


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_ansible_syntax_check(name, tmp_path):
    out = subprocess.run(
        [ansible_playbook(), "--syntax-check", "-i", str(EXAMPLES / "inventory.example.ini"), str(EXAMPLES / name)],
        capture_output=True, text=True, env=ansible_env(tmp_path), timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_check_playbook_collects_one_json_per_server(tmp_path, sim_dns, auth_server):
    sim, _ = sim_dns("demo")
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"[sme]\nsme-demo ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    ns = f"{auth_server.address[0]}:{auth_server.address[1]}"
    extra = {
        "ansible_become": False,
        "smewizard_bin": str(VENV_BIN / "smewizard"),
        "smewizard_args": ["--root", str(sim.root), "--nameserver", ns, "--dns-timeout", "2"],
        "results_dir": str(tmp_path / "results"),
    }
    out = subprocess.run(
        [ansible_playbook(), "-i", str(inventory), str(EXAMPLES / "check.yml"), "-e", json.dumps(extra)],
        capture_output=True, text=True, env=ansible_env(tmp_path), timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads((tmp_path / "results" / "sme-demo.json").read_text())
    assert result["schema"] == 1 and result["status"] == "fail"
    assert result["server"]["domains"] == ["example.com", "example.org", "shop.example.net"]
    assert "sme-demo: fail" in out.stdout
