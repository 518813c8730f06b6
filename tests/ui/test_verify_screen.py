"""Test & logs screen: live test through an SMTP server (a tiny stand-in that logs like
qpsmtpd into the simulated root's multilog file), the clear refusal where nothing listens, and
the Authentication-Results explainer."""

from __future__ import annotations

import socket

import pytest
from textual.widgets import Input, Static, TextArea

from smewizard.steps.base import Context
from smewizard.ui.app import SmeWizardApp
from tests.steps.test_verify import ForwardingHost, TinyQpsmtpd
from tests.ui.test_app import until

HEADER = """Authentication-Results: mx.google.com;
   dkim=pass header.i=@example.org header.s=wrongsel header.b=AbCd;
   spf=softfail (google.com: domain of alice@example.org does not designate 203.0.113.10) smtp.mailfrom=alice@example.org;
   dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.org
"""


def make_app(sim_dns, scenario="demo"):
    sim, dns = sim_dns(scenario)
    app = SmeWizardApp(Context(host=sim.host(), dns=dns), server_label="simulated SME root · test", env={},
                       start_step="verify")
    return app, sim


def texts(app, selector) -> list[str]:
    return [str(w.render()) for w in app.screen.query(selector)]


async def ready(app, pilot):
    await until(pilot, lambda: "verify" in app.assessments and "dkim" in app.assessments and not app.probing,
                "the audit finished")
    await until(pilot, lambda: app.query("#live-test"), "the live test section")


async def test_explains_a_pasted_header_against_the_published_selector(sim_dns):
    app, _ = make_app(sim_dns)
    async with app.run_test(size=(120, 60)) as pilot:
        await ready(app, pilot)
        app.query_one("#ar-text", TextArea).text = HEADER
        await pilot.click("#explain")
        await until(pilot, lambda: app.query(".ar-result"), "the explanation")
        rows = "\n".join(texts(app, ".ar-row"))
        assert "Checked by mx.google.com; From domain: example.org" in rows
        assert "dkim=pass" in rows and "'wrongsel'" in rows and "'default'" in rows  # demo publishes 'default'
        assert "spf=softfail" in rows and "relay" in rows
        assert app.query(".ar-result.-warn")
        before = app.assessments["verify"]
        app.reverify("verify")  # the view is rebuilt: the explanation survives
        await until(pilot, lambda: app.assessments["verify"] is not before and "verify" not in app.probing,
                    "re-verified")  # not just "not probing yet": the worker may not have started
        await until(pilot, lambda: app.query(".ar-result"), "explanation shown again")


async def test_nothing_listening_is_said_plainly(sim_dns):
    app, _ = make_app(sim_dns)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        async with app.run_test(size=(120, 60)) as pilot:
            await ready(app, pilot)
            app.query_one("#test-recipient", Input).value = "check@mail-tester.example"
            app.query_one("#test-port", Input).value = str(closed.getsockname()[1])
            await pilot.click("#send-test")
            await until(pilot, lambda: "Not sent" in str(app.query_one("#test-status", Static).render()), "refused")
            status = str(app.query_one("#test-status", Static).render())
            assert "nothing accepts SMTP connections" in status and "simulated or demo server" in status


async def test_sends_then_shows_the_signing_line_from_the_live_log(sim_dns):
    app, sim = make_app(sim_dns, "good")
    async with app.run_test(size=(120, 60)) as pilot:
        await ready(app, pilot)
        server = TinyQpsmtpd(sim.root / "var/log/qpsmtpd/current", signs=True)
        app.query_one("#test-sender", Input).value = "alice@example.com"
        app.query_one("#test-recipient", Input).value = "check@mail-tester.example"
        app.query_one("#test-port", Input).value = str(server.port)
        await pilot.click("#send-test")
        await until(pilot, lambda: "signed the test message" in str(app.query_one("#test-status", Static).render()),
                    "the signing line seen")
        assert app.query_one("#test-status").has_class("-pass")
        assert any("we signed the message" in line for line in app.verify_live_test.lines)


async def test_send_without_a_recipient_says_what_is_needed(sim_dns):
    app, _ = make_app(sim_dns)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("t")
        await until(pilot, lambda: list(app._notifications), "a notification")
        notes = " ".join(str(n.message) for n in app._notifications)
        assert "recipient" in notes.lower()
        assert app.focused is app.query_one("#test-recipient", Input)  # the field to fill is where the cursor is
        assert not app.verify_live_test.running
        await pilot.press("escape", "3")  # Esc leaves the field: digits switch steps again
        await until(pilot, lambda: app.current == "dmarc", "step 3 shown")


async def test_the_send_goes_to_the_servers_own_port_25_through_the_host(sim_dns):
    """QA T10b: the default 127.0.0.1:25 is the server's, reached through Host.tcp_endpoint
    (an SSH forward with --host), never this machine's port 25."""
    sim, dns = sim_dns("good")
    server = TinyQpsmtpd(sim.root / "var/log/qpsmtpd/current", signs=True)
    host = ForwardingHost(sim.root, {("127.0.0.1", 25): ("127.0.0.1", server.port)})
    app = SmeWizardApp(Context(host=host, dns=dns), server_label="test", env={}, start_step="verify")
    async with app.run_test(size=(120, 60)) as pilot:
        await ready(app, pilot)
        app.query_one("#test-sender", Input).value = "alice@example.com"
        app.query_one("#test-recipient", Input).value = "check@mail-tester.example"
        await pilot.click("#send-test")
        await until(pilot, lambda: not app.verify_live_test.running and "Not run" not in app.verify_live_test.status,
                    "the live test finished")
        assert "signed the test message" in app.verify_live_test.status
        assert host.asked == [("127.0.0.1", 25)]


def test_the_demo_never_sends_through_this_machines_port_25():
    """QA T10b: in `smewizard demo` 127.0.0.1:25 would be the workstation's own MTA (a real
    message); the demo says it sends nothing instead of connecting."""
    from smewizard.steps.verify import SendFailed, send_through_server
    from smewizard.ui.demo import DemoSession

    with DemoSession("demo") as demo:
        with pytest.raises(SendFailed, match="nothing is sent from the demo") as refused:
            send_through_server(demo.ctx.host, "admin@example.com", "check@mail-tester.example")
    assert str(refused.value).endswith("On a real server the live test sends through its qpsmtpd."), \
        "the refusal is shown as the status line: it ends as a sentence"


async def test_applying_dkim_re_judges_the_log_evidence_without_a_manual_reverify(sim_dns):
    """QA T8: after DKIM Apply, Test & logs must not keep saying 'not signing' (VER002 fail)
    from a log line that predates the change: it is re-verified with the applied step."""
    from smewizard.ui.screens.confirm import ConfirmApply

    app, _ = make_app(sim_dns)
    async with app.run_test(size=(120, 60)) as pilot:
        await ready(app, pilot)
        assert {f.code for f in app.assessments["verify"].findings if f.domain == "example.org"} >= {"VER002"}
        app.action_go_step("dkim")
        await pilot.pause()
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmApply), "confirmation shown")
        await pilot.press("y")

        def verify_codes():
            return {f.code for f in app.assessments["verify"].findings if f.domain == "example.org"}

        await until(pilot, lambda: "VER006" in verify_codes() and not app.probing, "Test & logs re-judged")
        assert "VER002" not in verify_codes()
