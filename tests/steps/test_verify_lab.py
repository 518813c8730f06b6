"""The live test and the log scanner against Debian's real qpsmtpd (tests/lab/qpsmtpd.py):
send through it with the wizard's own submission code, follow its real multilog file, find the
message's dkim line by the Message-ID in `250 Queued! <id>`, and attribute the signed line to
its domain by forkserver's `dispatching MAIL FROM` line (no logterse in the lab)."""

from __future__ import annotations

import time

import pytest

from smewizard.actions.apply import apply_actions
from smewizard.host import LocalHost
from smewizard.logs import LogTail, scan_files
from smewizard.sim import build_root
from smewizard.steps import dkim as dkim_step
from smewizard.steps import verify
from smewizard.steps.base import Context
from smewizard.steps.server import probe_server
from tests.conftest import need_program
from tests.lab.qpsmtpd import need_lab_root, qpsmtpd_uid, start_qpsmtpd

pytestmark = pytest.mark.lab
SIGNED, UNSIGNED = "example.com", "example.net"



def watch(tail: LogTail, token: str, timeout: float = 20.0) -> verify.TestOutcome:
    seen = verify.TestWatch(token)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = seen.feed(tail.poll())
        if outcome is not None:
            return outcome
        time.sleep(0.1)
    raise AssertionError(f"no dkim line for token {token}")


async def test_live_test_against_real_qpsmtpd(lab_dir, auth_server, dns_client):
    need_program("qpsmtpd-forkserver")
    need_program("multilog")
    need_lab_root()
    sim = build_root(lab_dir / "root", "fresh", uid_map={"qpsmtpd": qpsmtpd_uid()})
    sim.serve(auth_server)
    host = sim.host()
    assert host.run(["db", "domains", "set", UNSIGNED, "domain"]).ok
    ctx = Context(host=host, dns=dns_client)
    facts = await dkim_step.STEP.probe(ctx, await probe_server(ctx))
    assert apply_actions(host, list(dkim_step.STEP.assess(facts).for_domain(SIGNED).actions)).ok

    lab = start_qpsmtpd(lab_dir / "qpsmtpd", sim.root / "var/service/qpsmtpd/config/dkim",
                        dns_address=auth_server.address, rcpthosts=(SIGNED, UNSIGNED))
    try:
        tail = LogTail(LocalHost(None), str(lab.log_file))
        sent = verify.send_test_message(f"alice@{SIGNED}", f"someone@{UNSIGNED}", port=lab.port)
        signed = watch(tail, sent.token)
        sent2 = verify.send_test_message(f"bob@{UNSIGNED}", f"someone@{SIGNED}", port=lab.port)
        skipped = watch(tail, sent2.token)
    finally:
        lab.stop()
    assert signed.signed and "we signed the message" in signed.line
    assert not skipped.signed and f"DKIM not configured for {UNSIGNED}" in skipped.line
    assert "Queued!" in sent.reply and sent.token in sent.reply

    summary = scan_files([str(lab.log_file)])
    assert summary.domain(SIGNED).signed == 1 and summary.unattributed_signed == 0
    assert summary.domain(UNSIGNED).skipped == 1


def test_live_test_submits_through_a_real_ssh_forward(tmp_path):
    """--host: the test message reaches the SERVER's 127.0.0.1:<port> through OpenSSH's local
    forward (Host.tcp_endpoint), with the wizard's own submission code."""
    from smewizard.host.ssh import SshHost
    from tests.lab.sshd import start_sshd, stop_sshd
    from tests.steps.test_verify import TinyQpsmtpd

    sshd = start_sshd(tmp_path / "sshd")
    smtp = TinyQpsmtpd(tmp_path / "current", signs=True)
    try:
        with SshHost(sshd.target, ssh_config=str(sshd.client_config)) as host:
            sent = verify.send_through_server(host, "alice@example.com", "check@mail-tester.example",
                                              "127.0.0.1", smtp.port)
    finally:
        stop_sshd(sshd)
    assert "Queued!" in sent.reply and sent.server == f"127.0.0.1:{smtp.port} on the server"
    assert "dkim: pass, we signed the message" in (tmp_path / "current").read_text()
