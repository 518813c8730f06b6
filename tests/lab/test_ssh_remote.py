"""`smewizard check --host` through a real OpenSSH server (Debian's openssh-server) on
127.0.0.1, against a simulated SME root reached through sshd: the JSON must equal the local
run's, an action applied over SSH must change the server, and SSH failures must read clearly."""

from __future__ import annotations

import json

import pytest

from smewizard.actions.apply import apply_actions
from smewizard.actions.base import SetProp
from smewizard.cli import main
from smewizard.host import LocalHost
from smewizard.host.ssh import SshError, SshHost
from smewizard.sim import build_root
from tests.lab.sshd import start_sshd, stop_sshd

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    lab = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield lab
    stop_sshd(lab)


def _check_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["check", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_remote_check_equals_local_check(sshd, auth_server, tmp_path, capsys):
    sim = build_root(tmp_path / "root", "demo")
    sim.serve(auth_server)
    ns = "{}:{}".format(*auth_server.address)
    local_code, local = _check_json(capsys, "--root", str(sim.root), "--nameserver", ns)
    remote_code, remote = _check_json(
        capsys, "--host", sshd.target, "--ssh-config", str(sshd.client_config),
        "--root", str(sim.root), "--nameserver", ns,
    )
    assert remote["target"].startswith("ssh root@127.0.0.1")
    local.pop("target")
    remote.pop("target")
    assert remote == local
    assert remote_code == local_code
    assert remote["steps"], "the audit ran steps"


def test_action_applied_over_ssh_changes_the_server(sshd, tmp_path):
    sim = build_root(tmp_path / "root", "fresh")
    with SshHost(sshd.target, root=str(sim.root), ssh_config=str(sshd.client_config)) as host:
        report = apply_actions(host, [SetProp("configuration", "qmail", "DoubleBounceTo", "devnull", record_type="service")])
        assert report.ok, report.outcomes
        assert host.round_trips < 20
    config = LocalHost(sim.root).read_text("/home/e-smith/db/configuration")
    assert "DoubleBounceTo|devnull" in config


def test_unknown_host_key_is_explained(sshd, tmp_path):
    config = tmp_path / "ssh_config"
    config.write_text(sshd.client_config.read_text().replace(str(sshd.known_hosts), str(tmp_path / "empty")))
    host = SshHost(sshd.target, ssh_config=str(config), connect_timeout=5)
    with pytest.raises(SshError, match="host key is not known"):
        host.connect()


def test_rejected_key_is_explained(sshd, tmp_path):
    import subprocess

    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    text = sshd.client_config.read_text().replace(
        next(line.split()[1] for line in sshd.client_config.read_text().splitlines() if "IdentityFile" in line),
        str(other),
    )
    config = tmp_path / "ssh_config"
    config.write_text(text)
    host = SshHost(sshd.target, ssh_config=str(config), connect_timeout=5)
    with pytest.raises(SshError, match="authentication failed"):
        host.connect()


def test_bad_host_option_is_a_usage_error(capsys):
    assert main(["check", "--host", "-oProxyCommand=touch /tmp/x"]) == 2
    assert "not a host name" in capsys.readouterr().err


def test_tcp_endpoint_reaches_the_servers_own_loopback(sshd, tmp_path):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def greet():
        conn, _ = server.accept()
        conn.sendall(b"220 mail.example.com ESMTP\r\n")
        conn.close()

    threading.Thread(target=greet, daemon=True).start()
    with SshHost(sshd.target, ssh_config=str(sshd.client_config)) as host:
        local = host.tcp_endpoint("127.0.0.1", port)
        assert local[1] != port  # a forward, not the same socket
        with socket.create_connection(local, timeout=5) as conn:
            assert conn.recv(100).startswith(b"220 ")
    server.close()
