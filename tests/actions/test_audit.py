"""The audit log: one JSON line per action with who/what/before/after/exit/output, and never a
byte of a private key — neither from a real key generation nor from an action whose output
carries key material."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from smewizard.actions.apply import apply_actions
from smewizard.actions.audit import AUDIT_LOG, scrub
from smewizard.actions.base import Action, SetProp, SignalEvent
from smewizard.actions.files import WriteFile
from smewizard.engine import run_audit
from smewizard.steps.base import Context
from smewizard.validate import InvalidValue


def new_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def key_fragments(pem: bytes) -> list[str]:
    """Every 16-character piece of the key's base64 body, and of its DER bytes re-encoded."""
    body = "".join(line for line in pem.decode().splitlines() if "-----" not in line)
    der_b64 = base64.b64encode(base64.b64decode(body)).decode()
    return [s[i:i + 16] for s in (body, der_b64) for i in range(0, len(s) - 16, 8)]


def server_logs(root: Path) -> str:
    logs = root / "var/log/smewizard"
    return "\n".join(p.read_text() for p in logs.rglob("*") if p.is_file())


@dataclass(frozen=True)
class LeakyKeyAction(Action):
    """A DKIM-style action whose output (like a careless `openssl genrsa` wrapper) carries the
    key it generated."""

    pem: str
    step: str = "dkim"
    domain: str | None = "example.com"

    def summary(self) -> str:
        return "Generate a DKIM key for example.com"

    def commands(self) -> list[list[str]]:
        return [["openssl", "genrsa", "-out", "/home/e-smith/dkim_keys/example.com/default", "2048"]]

    def execute(self, host) -> str:
        return "generated:\n" + self.pem + "\nDER " + base64.b64encode(b"\x30\x82" + bytes(range(200))).decode()

    def undo_actions(self, host):
        return []


def test_an_action_whose_output_has_key_bytes_leaves_none_in_the_audit_log(sim_root):
    sim = sim_root("demo")
    pem = new_pem().decode()
    report = apply_actions(sim.host(), [LeakyKeyAction(pem)])
    assert report.ok
    text = server_logs(sim.root)
    assert "PRIVATE KEY" not in text
    assert not [f for f in key_fragments(pem.encode()) if f in text]
    (line,) = (sim.root / AUDIT_LOG.lstrip("/")).read_text().splitlines()
    entry = json.loads(line)
    assert entry["output_tail"].startswith("generated:\n[private key removed]")
    assert "base64 characters removed" in entry["output_tail"]


async def test_real_key_generation_leaves_no_key_bytes_in_audit_log_or_journal(sim_dns):
    sim, dns = sim_dns("fresh")
    result = await run_audit(Context(host=sim.host(), dns=dns))
    actions = [a for x in result.assessments.values() for a in x.actions]
    assert apply_actions(sim.host(), actions).ok
    keys = [p for p in (sim.root / "home/e-smith/dkim_keys").rglob("*")
            if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    assert keys, "the fresh scenario generates a DKIM key"
    text = server_logs(sim.root)
    for key in keys:
        assert not [f for f in key_fragments(key.read_bytes()) if f in text]


def test_audit_line_has_the_fields_an_admin_needs(sim_root):
    sim = sim_root("demo")
    apply_actions(sim.host(), [SetProp("configuration", "qpsmtpd", "DKIMSigning", "enabled", step="dkim")])
    (line,) = (sim.root / AUDIT_LOG.lstrip("/")).read_text().splitlines()
    entry = json.loads(line)
    assert entry["command"] == ["db configuration setprop qpsmtpd DKIMSigning enabled"]
    assert entry["previous"] == "disabled" and entry["new"] == "enabled"
    assert entry["ok"] is True and entry["exit"] == 0
    assert {"time", "user", "action", "run", "output_tail"} <= set(entry)
    mode = (sim.root / AUDIT_LOG.lstrip("/")).stat().st_mode & 0o777
    assert mode == 0o640


def test_a_failed_command_is_logged_with_its_exit_status(sim_root):
    sim = sim_root("demo")
    report = apply_actions(sim.host(), [SignalEvent("no-such-event")])
    assert not report.ok
    entry = json.loads((sim.root / AUDIT_LOG.lstrip("/")).read_text().splitlines()[0])
    assert entry["ok"] is False and entry["exit"] != 0 and entry["error"]


def test_scrub_keeps_paths_and_values_but_removes_keys():
    pem = new_pem().decode()
    assert scrub("/var/service/qpsmtpd/config/dkim/example.com/selector") == \
        "/var/service/qpsmtpd/config/dkim/example.com/selector"
    assert scrub("db configuration setprop qpsmtpd DKIMSigning enabled").endswith("enabled")
    cleaned = scrub(f"before {pem} after")
    assert cleaned == "before [private key removed]\n after"
    # a key cut off mid-way (an output tail) is removed to the end
    assert "MII" not in scrub("tail: " + pem[:300])


def test_write_file_refuses_private_key_content():
    with pytest.raises(InvalidValue, match="private key"):
        WriteFile("/tmp/x", new_pem().decode())


def test_scrub_of_a_text_starting_inside_a_key_removes_up_to_its_end():
    pem = new_pem().decode()
    cut = pem[len(pem) // 2:] + "\nDone."
    cleaned = scrub(cut)
    assert cleaned == "[end of a private key removed]\n\nDone."
