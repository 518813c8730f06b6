"""Debian's real qpsmtpd on 127.0.0.1 for lab tests, logging through daemontools multilog.

One instance: 127.0.0.1 is a relay client, so the dkim plugin SIGNS relayed mail with the key
folder `config/dkim/<envelope-sender-domain>/`. The instance's `config/dkim` is a link to the
folder the simulated `signal-event email-update` built, so what is tested is exactly the
layout SME's templates are assumed to produce. Mail is queued to a Maildir (queue/maildir).
Every DNS question qpsmtpd asks goes to the loopback server (a first plugin, `lab_resolver`,
because forkserver runs under perl -T and ignores tainted RES_* variables). Processes are
started in their own session and stopped by PID.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import lab_required, need_program

LAB_RESOLVER = r"""#!perl -w
# lab_resolver: LAB ONLY. Make every Net::DNS::Resolver in this qpsmtpd use the loopback DNS
# server: Net::DNS untaints a config_file given to the FIRST Resolver->new() and makes it the
# process default, so this plugin must be listed first in config/plugins.
use strict;
use warnings;
use Qpsmtpd::Constants;
use Net::DNS::Resolver;

sub register {
    my ($self, $qp, $file) = @_;
    ($file) = (($file || '') =~ m{^(/[\w/.\-]+)$}) or do {
        $self->log(LOGERROR, "error, need an absolute resolv.conf path");
        return;
    };
    Net::DNS::Resolver->new(config_file => $file);
}
"""


@dataclass
class QpsmtpdLab:
    directory: Path
    port: int
    log_dir: Path
    maildir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def log_file(self) -> Path:
        return self.log_dir / "current"

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, needle: str, timeout: float = 20.0) -> str:
        """The first log line containing `needle` (waits for multilog to write it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_text().splitlines():
                if needle in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"qpsmtpd never logged {needle!r}; log:\n{self.log_text()[-3000:]}")

    def queued_messages(self) -> list[bytes]:
        new = self.maildir / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.is_dir() else []

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # its own session: the group id is its pid
                except ProcessLookupError:
                    pass
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.processes.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_lab_root() -> None:
    """qpsmtpd must drop to the `qpsmtpd` user to read 0400 keys it owns: that needs root."""
    if os.geteuid() == 0:
        return
    message = "the qpsmtpd lab needs root (forkserver -u qpsmtpd)"
    if lab_required():
        pytest.fail(message + " and SMEWIZARD_LAB=1 is set")
    pytest.skip(message)


def need_mail_dkim() -> None:
    ok = subprocess.run(["perl", "-MMail::DKIM::Signer", "-e", "1"], capture_output=True).returncode == 0
    if ok:
        return
    message = "Perl Mail::DKIM is not installed (Debian package libmail-dkim-perl)"
    if lab_required():
        pytest.fail(message + " and SMEWIZARD_LAB=1 is set")
    pytest.skip(message)


def qpsmtpd_uid() -> int:
    try:
        return pwd.getpwnam("qpsmtpd").pw_uid
    except KeyError:
        message = "no qpsmtpd user (Debian package qpsmtpd creates it)"
        if lab_required():
            pytest.fail(message + " and SMEWIZARD_LAB=1 is set")
        pytest.skip(message)


def start_qpsmtpd(
    directory: Path,
    dkim_dir: Path,
    *,
    dns_address: tuple[str, int],
    me: str = "mail.example.com",
    rcpthosts: tuple[str, ...] = ("example.com",),
) -> QpsmtpdLab:
    """Start qpsmtpd-forkserver (relay client 127.0.0.1, dkim, queue/maildir) under multilog."""
    forkserver = need_program("qpsmtpd-forkserver")
    multilog = need_program("multilog")
    need_mail_dkim()
    user = pwd.getpwnam("qpsmtpd")
    config, plugins = directory / "config", directory / "plugins"
    log_dir, spool, maildir = directory / "log", directory / "spool", directory / "maildir"
    for d in (config, plugins, log_dir):
        d.mkdir(parents=True, exist_ok=True)
    for d in (spool, maildir, maildir / "new", maildir / "cur", maildir / "tmp"):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(d, user.pw_uid, user.pw_gid)
    (plugins / "lab_resolver").write_text(LAB_RESOLVER)
    (config / "dkim").symlink_to(dkim_dir)
    (config / "plugin_dirs").write_text(f"{plugins}\n/usr/share/qpsmtpd/plugins\n")
    (config / "logging").write_text("logging/warn LOGINFO\n")
    (config / "loglevel").write_text("6\n")
    (config / "me").write_text(me + "\n")
    (config / "spool_dir").write_text(f"{spool}\n")
    (config / "relayclients").write_text("127.0.0.1\n")
    (config / "rcpthosts").write_text("\n".join(rcpthosts) + "\n")
    ip, port = dns_address
    (config / "resolv.conf").write_text(f"nameserver {ip}\noptions port:{port} timeout:1 attempts:1\n")
    (config / "plugins").write_text(
        f"lab_resolver {config}/resolv.conf\nrelay\ndkim\nrcpt_ok\nqueue/maildir {maildir}\n"
    )
    smtp_port = free_port()
    lab = QpsmtpdLab(directory, smtp_port, log_dir, maildir)
    logger = subprocess.Popen(
        [multilog, "t", "s1000000", "n5", str(log_dir)],
        stdin=subprocess.PIPE, start_new_session=True,
    )
    lab.processes.append(logger)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(directory), "QPSMTPD_CONFIG": str(config)}
    try:
        server = subprocess.Popen(
            [forkserver, "-u", "qpsmtpd", "-l", "127.0.0.1", "-p", str(smtp_port),
             "--pid-file", str(directory / "qpsmtpd.pid")],
            cwd=directory,  # the dkim plugin opens keys by the relative path config/dkim/<domain>
            env=env, stdin=subprocess.DEVNULL, stdout=logger.stdin, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        lab.processes.insert(0, server)
        logger.stdin.close()  # the server holds the pipe now; multilog ends when it exits
        _wait_for_banner(lab, server)
    except BaseException:
        lab.stop()
        raise
    return lab


def _wait_for_banner(lab: QpsmtpdLab, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"qpsmtpd-forkserver exited {server.returncode}:\n{lab.log_text()}")
        try:
            with socket.create_connection(("127.0.0.1", lab.port), timeout=2) as s:
                banner = s.recv(512)
                s.sendall(b"QUIT\r\n")
            if banner.startswith(b"220"):
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"qpsmtpd did not answer on 127.0.0.1:{lab.port}:\n{lab.log_text()}")
