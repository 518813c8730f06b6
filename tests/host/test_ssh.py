"""SshHost without a network: target parsing, failure messages, and the remote agent run on
the Pythons an SME v10 server has (2.7 and 3.6) through the same protocol ssh would carry."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from smewizard.host import HostError, LocalHost, NotFound
from smewizard.host.ssh import _BOOTSTRAP, SshHost, SshTarget, classify_ssh_failure
from smewizard.validate import InvalidValue


@pytest.mark.parametrize(
    ("text", "user", "host", "port"),
    [
        ("root@mail.example.com", "root", "mail.example.com", None),
        ("mail.example.com:2222", None, "mail.example.com", 2222),
        ("admin@203.0.113.10:22", "admin", "203.0.113.10", 22),
        ("root@[2001:db8::1]:2200", "root", "2001:db8::1", 2200),
        ("localhost", None, "localhost", None),
    ],
)
def test_target_parsing(text, user, host, port):
    target = SshTarget.parse(text)
    assert (target.user, target.host, target.port) == (user, host, port)


@pytest.mark.parametrize(
    "text", ["-oProxyCommand=evil", "root@host name", "ro ot@mail.example.com", "mail.example.com:99999", "x@;rm -rf"]
)
def test_hostile_targets_are_refused(text):
    with pytest.raises(InvalidValue):
        SshTarget.parse(text)


def test_ssh_argv_keeps_host_after_double_dash():
    host = SshHost("root@mail.example.com:2222", ssh_config="/tmp/cfg")
    argv = host.ssh_argv()
    assert argv[0] == "ssh" and "BatchMode=yes" in argv and "ControlMaster=auto" in argv
    assert argv[argv.index("--") + 1] == "mail.example.com"
    assert argv[argv.index("-p") + 1] == "2222" and argv[argv.index("-l") + 1] == "root"


@pytest.mark.parametrize(
    ("stderr", "words"),
    [
        ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", "CHANGED"),
        ("Host key verification failed.", "not known"),
        ("root@127.0.0.1: Permission denied (publickey).", "authentication failed"),
        ("ssh: connect to host 127.0.0.1 port 1: Connection refused", "cannot connect"),
    ],
)
def test_ssh_failures_get_clear_messages(stderr, words):
    assert words in str(classify_ssh_failure(stderr, "root@x"))


class AgentOverPipe(SshHost):
    """The real agent and protocol, carried by a local pipe instead of ssh."""

    def __init__(self, python: str, root: Path):
        super().__init__("localhost", root=str(root))
        self.python = python

    def ssh_argv(self) -> list[str]:
        return [self.python, "-c", _BOOTSTRAP]

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            self._proc.wait(timeout=5)
            self._proc = None


def _pythons() -> list[str]:
    found = [sys.executable]
    for version in ("2.7", "3.6"):
        exe = next(iter(sorted(Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python"))), None)
        if exe is None and shutil.which(f"python{version}") and ".pyenv/shims" not in shutil.which(f"python{version}"):
            exe = shutil.which(f"python{version}")
        if exe:
            found.append(str(exe))
    return found


QP_UID = 4242 if os.geteuid() == 0 else os.getuid()


def _tree(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(f"root:x:0:0::/root:/bin/sh\nqpsmtpd:x:{QP_UID}:{QP_UID}::/:/bin/false\n")
    (root / "etc/group").write_text(f"root:x:0:\nqpsmtpd:x:{QP_UID}:\n")
    db = root / "home/e-smith/db"
    db.mkdir(parents=True)
    (db / "configuration").write_text("DomainName=example.com\nqpsmtpd=service|DKIMSigning|enabled\n")
    keys = root / "home/e-smith/dkim_keys/example.com"
    keys.mkdir(parents=True)
    (keys / "selector").write_text("nov2026\n")
    links = root / "var/service/qpsmtpd/config/dkim/example.com"
    links.mkdir(parents=True)
    os.symlink(str(keys / "selector"), links / "selector")
    maildir = root / "home/e-smith/files/users/alice/Maildir"
    for sub in ("cur", "new", "tmp", ".junkmail/tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur/123.msg").write_text("x")


@pytest.mark.parametrize("python", _pythons())
def test_agent_answers_like_localhost(python, tmp_path):
    _tree(tmp_path)
    local, remote = LocalHost(tmp_path), AgentOverPipe(python, tmp_path)
    try:
        for path in ("/home/e-smith/db/configuration", "/home/e-smith/dkim_keys/example.com/selector"):
            assert remote.read_bytes(path) == local.read_bytes(path)
        for path in (
            "/var/service/qpsmtpd/config/dkim/example.com/selector",
            "/home/e-smith/files/users/alice/Maildir/.junkmail/tmp",
            "/home/e-smith/files/users/alice/Maildir/cur/123.msg",
            "/home/e-smith/nothing",
        ):
            assert remote.stat(path) == local.stat(path)
        assert remote.resolve("/var/service/qpsmtpd/config/dkim/example.com/selector") == (
            "/home/e-smith/dkim_keys/example.com/selector"
        )
        assert remote.list_dir("/home/e-smith/files/users/alice/Maildir/cur") == ["123.msg"]
        result = remote.run(["echo", "a;b", "$(id)"])
        assert result.ok and result.stdout == "a;b $(id)\n"  # argv kept: nothing interpreted
        remote.write_atomic("/home/e-smith/new-file", b"secret", mode=0o400, owner="qpsmtpd")
        st = local.stat("/home/e-smith/new-file")
        assert st.mode == 0o400 and st.owner == "qpsmtpd"
        assert remote.read_bytes("/home/e-smith/new-file") == b"secret"  # snapshot dropped after a write
        remote.append_bytes("/home/e-smith/log", b"one\n")
        remote.append_bytes("/home/e-smith/log", b"two\n")
        assert local.read_bytes("/home/e-smith/log") == b"one\ntwo\n"
        with pytest.raises(NotFound):
            remote.read_bytes("/home/e-smith/db/missing")
        with pytest.raises(HostError):
            remote.rename("/home/e-smith/db/configuration", "/home/e-smith/new-file")
    finally:
        remote.close()


def test_a_full_read_pass_costs_few_round_trips(tmp_path):
    _tree(tmp_path)
    remote = AgentOverPipe(sys.executable, tmp_path)
    try:
        remote.connect()
        before = remote.round_trips
        for _ in range(3):
            remote.read_bytes("/home/e-smith/db/configuration")
            remote.stat("/home/e-smith/files/users/alice/Maildir/.junkmail/tmp")
            remote.resolve("/var/service/qpsmtpd/config/dkim/example.com/selector")
            remote.stat("/etc/qpsmtpd/dkim")
        assert remote.round_trips - before == 1  # one snapshot answered all of them
    finally:
        remote.close()


@pytest.mark.parametrize("python", _pythons())
def test_streamed_output_arrives_line_by_line(python, tmp_path):
    _tree(tmp_path)
    remote = AgentOverPipe(python, tmp_path)
    seen: list[str] = []
    try:
        result = remote.run_stream(["sh", "-c", "echo one; echo two >&2; exit 3"], seen.append)
    finally:
        remote.close()
    assert seen == ["one", "two"]
    assert result.returncode == 3 and result.stdout == "one\ntwo\n"


def test_connection_lost_mid_session_is_a_clear_error(tmp_path):
    _tree(tmp_path)
    remote = AgentOverPipe(sys.executable, tmp_path)
    try:
        # the session dies while a command runs (network drop, server reboot, …)
        with pytest.raises(HostError, match="connection to localhost lost during run"):
            remote.run(["sh", "-c", "kill -9 $PPID; sleep 1"])
        assert remote.run(["echo", "back"]).stdout == "back\n"  # the next call reconnects
    finally:
        remote.close()
