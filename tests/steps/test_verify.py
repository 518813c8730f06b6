"""Test & logs step: findings from the simulated server's real multilog files, the live test's
SMTP submission and log watch."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from smewizard import validate
from smewizard.actions.apply import apply_actions
from smewizard.host import LocalHost
from smewizard.host.base import HostError
from smewizard.logs import LogTail
from smewizard.logs.tai64n import encode
from smewizard.model import Status
from smewizard.steps import verify
from smewizard.steps.base import Context
from smewizard.steps.registry import info, load_step
from smewizard.steps.server import probe_server


async def assess(sim, dns):
    ctx = Context(host=sim.host(), dns=dns)
    facts = await verify.STEP.probe(ctx, await probe_server(ctx))
    return verify.STEP.assess(facts)


def codes(assessment, domain=None):
    return {f.code: f for f in assessment.findings if domain is None or f.domain == domain}


async def test_good_server_log_shows_each_domain_signed(sim_dns):
    sim, dns = sim_dns("good")
    out = await assess(sim, dns)
    for domain in ("example.com", "example.org"):
        found = codes(out, domain)
        assert found["VER001"].status is Status.PASS and "VER002" not in found
    assert "VER011" in codes(out) and codes(out)["VER015"].message.startswith("qmail deliveries: 2 delivered")


async def test_log_times_are_decoded_here_so_tai64nlocal_is_not_needed(sim_dns):
    """guide Part 10 says SME v10 lacks tai64nlocal: the admin is told the wizard decodes the
    labels itself."""
    sim, dns = sim_dns("good")
    coverage = codes(await assess(sim, dns))["VER011"]
    assert "decoded by smewizard" in coverage.message
    assert "nothing needs installing" in coverage.explanation and "tai64nlocal" in coverage.explanation


async def test_demo_server_log_shows_signing_skipped_with_the_cause(sim_dns):
    sim, dns = sim_dns("demo")
    out = await assess(sim, dns)
    skipped = codes(out, "example.org")["VER002"]
    assert skipped.status is Status.FAIL and "DKIMSigning is not enabled" in skipped.explanation
    assert out.status is Status.FAIL


async def test_after_undoing_the_dkim_step_the_log_is_not_called_stale_but_signing_off(sim_dns):
    """QA3 L4: DKIM applied then undone: the old skips predate the undo, and DKIMSigning is
    disabled again, so the honest verdict is 'not signed now', not 'send a test'."""
    from smewizard.actions.journal import list_runs
    from smewizard.actions.undo import plan_undo, undo_run

    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns)
    dkim_step = load_step(info("dkim"))
    fix = dkim_step.assess(await dkim_step.probe(ctx, await probe_server(ctx)))
    assert apply_actions(ctx.host, fix.actions).ok
    run = list_runs(ctx.host)[-1]
    assert undo_run(ctx.host, plan_undo(ctx.host, run)).ok
    found = codes(await assess(sim, dns), "example.org")
    assert found["VER007"].status is Status.FAIL and "DKIMSigning is not enabled" in found["VER007"].message
    assert "VER006" not in found


async def test_a_plugin_list_in_peers_0_changed_after_the_skips_makes_them_stale(sim_dns):
    """SME keeps qpsmtpd's plugin list in config/peers/0 (config/plugins only loads `peers`):
    a change there after the logged skips means they no longer prove anything."""
    sim, dns = sim_dns("demo")
    assert sim.host().run(["db", "configuration", "setprop", "qpsmtpd", "DKIMSigning", "enabled"]).ok
    assert codes(await assess(sim, dns), "example.org")["VER002"].status is Status.FAIL
    peers = sim.root / "var/service/qpsmtpd/config/peers"
    peers.mkdir()
    (peers / "0").write_text("dkim\n")
    found = codes(await assess(sim, dns), "example.org")
    assert "VER002" not in found and found["VER006"].status is Status.UNKNOWN


async def test_skip_lines_older_than_the_dkim_fix_are_not_current_evidence(sim_dns):
    """QA T8: after DKIM is applied (keys, DKIMSigning, email-update) the logged skips predate
    the change: 'send a test', never a failure that contradicts the DKIM step."""
    sim, dns = sim_dns("demo")
    ctx = Context(host=sim.host(), dns=dns)
    server = await probe_server(ctx)
    dkim_step = load_step(info("dkim"))
    fix = dkim_step.assess(await dkim_step.probe(ctx, server))
    assert apply_actions(ctx.host, fix.actions).ok
    out = await assess(sim, dns)
    for domain in ("example.com", "example.org"):
        found = codes(out, domain)
        assert "VER002" not in found
        assert found["VER006"].status is Status.UNKNOWN and "send a test" in found["VER006"].message
    with open(sim.root / "var/log/qpsmtpd/current", "a") as log:  # a skip logged after the change counts
        log.write(f"{encode(int(time.time()) + 5)} 4242 (data_post_headers) dkim: skip, DKIM not configured for example.org\n")
    again = codes(await assess(sim, dns), "example.org")
    assert again["VER002"].status is Status.FAIL and "VER006" not in again


async def test_a_domain_without_traffic_is_unknown_not_pass(sim_dns):
    sim, dns = sim_dns("good")
    assert sim.host().run(["db", "domains", "set", "quiet.example", "domain"]).ok
    out = await assess(sim, dns)
    assert codes(out, "quiet.example")["VER005"].status is Status.UNKNOWN


async def test_unreadable_log_is_unknown_and_claims_nothing(sim_dns):
    sim, dns = sim_dns("good")
    shutil.rmtree(sim.root / "var/log/qpsmtpd")
    out = await assess(sim, dns)
    found = codes(out)
    assert found["VER010"].status is Status.UNKNOWN
    assert not {"VER001", "VER002", "VER005"} & set(found)


def test_verdict_findings_count_spam_virus_and_badmailfrom(sim_root, tmp_path):
    sim = sim_root("fresh")
    log = sim.root / "var/log/qpsmtpd/current"
    extra = ["1 (data_post) spamassassin: fail, Spam, 15.0 > 12", "2 (data_post) virus::clamdscan: fail, found virus X",
             "3 (mail) badmailfrom: fail, Your envelope sender is in my badmailfrom list"]
    with log.open("a") as fh:
        fh.writelines(f"{encode(1_795_570_000 + i)} {line}\n" for i, line in enumerate(extra))
    facts = verify.VerifyFacts(("example.com",), verify.read_qpsmtpd(sim.host()), None, None, "no log", False, False)
    found = codes(verify.STEP.assess(facts))
    assert "1 rejected" in found["VER012"].message
    assert found["VER013"].status is Status.WARN and "found virus X" in found["VER013"].explanation
    assert found["VER014"].message.startswith("badmailfrom rejected 1")


# ---------------------------------------------------------------- live test
@pytest.mark.parametrize("value", ["alice", "alice@", "a b@example.com", "alice@exa_mple..com", "<a@example.com>"])
def test_bad_addresses_are_refused_before_connecting(value):
    with pytest.raises(validate.InvalidValue):
        verify.send_test_message(value, "someone@example.net", port=1)


def test_nothing_listening_says_so_clearly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(verify.SendFailed, match="nothing accepts SMTP connections on 127.0.0.1"):
            verify.send_test_message("alice@example.com", "someone@example.net", port=port, timeout=5)


class TinyQpsmtpd:
    """Just enough SMTP to accept one message, logging as qpsmtpd does into a multilog file."""

    def __init__(self, log_path, signs: bool):
        self.log_path, self.signs = log_path, signs
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def log(self, text):
        with open(self.log_path, "a") as fh:
            fh.write(f"{encode(1_795_570_100)} {text}\n")

    def serve(self):
        conn, _ = self.sock.accept()
        pid = "31337"
        with conn, conn.makefile("rb") as rf:
            conn.sendall(b"220 mail.example.com ESMTP\r\n")
            sender, message_id = "", ""
            while line := rf.readline():
                cmd = line.decode().strip()
                if cmd.upper().startswith(("EHLO", "HELO")):
                    conn.sendall(b"250 mail.example.com\r\n")
                elif cmd.upper().startswith("MAIL FROM:"):
                    sender = cmd[10:].strip("<> ")
                    self.log(f"{pid} dispatching {cmd}")
                    conn.sendall(b"250 ok\r\n")
                elif cmd.upper().startswith("RCPT TO:"):
                    conn.sendall(b"250 ok\r\n")
                elif cmd.upper() == "DATA":
                    conn.sendall(b"354 go\r\n")
                    while (body := rf.readline()) not in (b".\r\n", b""):
                        if body.lower().startswith(b"message-id:"):
                            message_id = body.split(b":", 1)[1].strip().decode()
                    domain = sender.rsplit("@", 1)[1]
                    verdict = "pass, we signed the message" if self.signs else f"skip, DKIM not configured for {domain}"
                    self.log(f"{pid} (data_post_headers) dkim: {verdict}")
                    self.log(f"{pid} 250 Queued! 1795570100 qp 31338 {message_id}")
                    conn.sendall(f"250 Queued! 1795570100 qp 31338 {message_id}\r\n".encode())
                elif cmd.upper() == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    break
        self.sock.close()


class ForwardingHost(LocalHost):
    """A server whose own loopback is not this machine's (as with --host): tcp_endpoint maps
    the server-side address to where this process must connect, as SshHost's forward does."""

    def __init__(self, root, forwards):
        super().__init__(root)
        self.forwards, self.asked = forwards, []

    def tcp_endpoint(self, host, port):
        self.asked.append((host, port))
        if (host, port) not in self.forwards:
            raise HostError(f"ssh -O forward failed for {host}:{port}")
        return self.forwards[(host, port)]


def test_the_live_test_reaches_the_servers_own_smtp_through_the_host(sim_root):
    """QA T10b: with --host, 127.0.0.1:25 must be the SERVER's qpsmtpd, not the workstation's."""
    sim = sim_root("good")
    server = TinyQpsmtpd(sim.root / "var/log/qpsmtpd/current", signs=True)
    host = ForwardingHost(sim.root, {("127.0.0.1", 25): ("127.0.0.1", server.port)})
    sent = verify.send_through_server(host, "alice@example.com", "check@mail-tester.example")
    server.thread.join(5)
    assert host.asked == [("127.0.0.1", 25)] and "Queued!" in sent.reply
    assert sent.server == "127.0.0.1:25 on the server"


def test_a_forward_that_cannot_be_opened_is_a_clear_failure(sim_root):
    host = ForwardingHost(sim_root("good").root, {})
    with pytest.raises(verify.SendFailed, match="cannot reach 127.0.0.1:25 on the server: ssh -O forward failed"):
        verify.send_through_server(host, "alice@example.com", "check@mail-tester.example")


def test_the_smtp_host_is_an_address_as_the_server_sees_it(sim_root):
    host = ForwardingHost(sim_root("good").root, {})
    with pytest.raises(validate.InvalidValue, match="IP address as the server sees it"):
        verify.send_through_server(host, "alice@example.com", "check@mail-tester.example", "mail.example.com")
    assert host.asked == []  # refused before any forward is opened


@pytest.mark.parametrize("signs", [True, False])
def test_send_then_watch_the_log_for_that_messages_dkim_line(sim_root, signs):
    sim = sim_root("good")
    log = sim.root / "var/log/qpsmtpd/current"
    tail = LogTail(sim.host(), "/var/log/qpsmtpd/current")  # started before sending: old lines ignored
    server = TinyQpsmtpd(log, signs)
    sent = verify.send_test_message("alice@example.com", "check@mail-tester.example", port=server.port)
    server.thread.join(5)
    assert sent.token in sent.message_id and "Queued!" in sent.reply
    watch = verify.TestWatch(sent.token)
    outcome = watch.feed(tail.poll())
    assert outcome is not None and outcome.pid == "31337" and outcome.signed is signs


def test_watch_ignores_other_connections_and_waits_for_the_dkim_line():
    watch = verify.TestWatch("abc123")
    assert watch.feed([(None, "10 (data_post_headers) dkim: pass, we signed the message"),
                       (None, "11 250 Queued! 1 qp 12 <smewizard-abc123@example.com>")]) is None
    out = watch.feed([(None, "11 (data_post_headers) dkim: skip, DKIM not configured for example.com")])
    assert out is not None and out.pid == "11" and not out.signed
