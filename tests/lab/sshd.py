"""A real OpenSSH server on 127.0.0.1 for lab tests: throwaway host key, one authorised test
key, a client config that trusts exactly that host key. Started and stopped by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import need_program


@dataclass
class SshdLab:
    port: int
    client_config: Path
    host_key: Path
    known_hosts: Path
    process: subprocess.Popen

    @property
    def target(self) -> str:
        return f"root@127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, capture_output=True
    )


def start_sshd(workdir: Path) -> SshdLab:
    sshd = need_program("sshd")
    need_program("ssh-keygen")
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o700)
    host_key, user_key = workdir / "host_ed25519", workdir / "user_ed25519"
    _keygen(host_key)
    _keygen(user_key)
    authorized = workdir / "authorized_keys"
    authorized.write_text(user_key.with_suffix(".pub").read_text())
    authorized.chmod(0o600)
    port = _free_port()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    config = workdir / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {host_key}\n"
        f"AuthorizedKeysFile {authorized}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        f"StrictModes no\nPidFile {workdir}/sshd.pid\nLogLevel ERROR\n"
        "AcceptEnv LANG LC_*\nMaxSessions 20\n"
    )
    known_hosts = workdir / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} " + host_key.with_suffix(".pub").read_text())
    client = workdir / "ssh_config"
    client.write_text(
        f"Host 127.0.0.1\n  IdentityFile {user_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {known_hosts}\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n"
    )
    proc = subprocess.Popen(  # noqa: S603
        [sshd, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(64).startswith(b"SSH-"):
                    break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("sshd exited: " + proc.stderr.read().decode(errors="replace")) from None
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("sshd did not start")
    return SshdLab(port, client, host_key, known_hosts, proc)


def stop_sshd(lab: SshdLab) -> None:
    if lab.process.poll() is None:
        lab.process.send_signal(signal.SIGTERM)
        try:
            lab.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            lab.process.kill()
