"""Copy and save of DNS records: what reaches the clipboard routes and the saved file."""

from __future__ import annotations

import os
import stat

import pytest

from smewizard.model import Record
from smewizard.ui import clipboard

LONG_DKIM = "v=DKIM1; k=rsa; p=" + "A" * 400
DKIM = Record("feb2026._domainkey.example.com", "TXT", LONG_DKIM, domain="example.com")
SPF = Record("example.com", "TXT", "v=spf1 ip4:192.0.2.10 -all", domain="example.com")


def test_value_form_is_one_string_and_chunked_form_splits_at_255():
    assert clipboard.record_value_text(DKIM) == LONG_DKIM
    chunked = clipboard.record_chunked_text(DKIM)
    parts = chunked.split('" "')
    assert len(parts) == 2
    assert len(parts[0].lstrip('"')) == 255
    assert chunked.replace('" "', "").strip('"') == LONG_DKIM


def test_copy_over_ssh_uses_osc52_only_and_says_how_to_fix_tmux():
    sent: list[str] = []

    def local_copy(text: str) -> str | None:
        raise AssertionError("no local clipboard without a display")

    outcome = clipboard.copy_text(SPF.value, sent.append, env={}, local_copy=local_copy)
    assert sent == [SPF.value]
    assert outcome.osc52 and not outcome.local
    assert "set-clipboard on" in outcome.describe()


def test_copy_with_a_display_also_uses_the_local_clipboard():
    local: list[str] = []
    outcome = clipboard.copy_text(
        SPF.value, lambda t: None, env={"DISPLAY": ":0"}, local_copy=lambda t: local.append(t)
    )
    assert local == [SPF.value]
    assert outcome.local


def test_a_failing_local_clipboard_is_reported_not_raised():
    outcome = clipboard.copy_text(
        SPF.value, lambda t: None, env={"WAYLAND_DISPLAY": "wayland-0"},
        local_copy=lambda t: "no xclip",
    )
    assert not outcome.local and outcome.local_error == "no xclip"
    assert "OSC 52" in outcome.describe()


def test_real_pyperclip_failure_becomes_a_message(monkeypatch):
    import pyperclip

    def broken(text):
        raise pyperclip.PyperclipException("no copy mechanism")

    monkeypatch.setattr(pyperclip, "copy", broken)
    assert clipboard.copy_local("x") == "no copy mechanism"


@pytest.mark.parametrize(
    "text", ["-----BEGIN PRIVATE KEY-----\nMII...", "-----BEGIN RSA PRIVATE KEY-----"]
)
def test_private_key_material_is_never_copied_or_saved(tmp_path, text):
    sent: list[str] = []
    with pytest.raises(clipboard.PrivateMaterialRefused):
        clipboard.copy_text(text, sent.append, env={})
    with pytest.raises(clipboard.PrivateMaterialRefused):
        clipboard.save_text(tmp_path, "key", text)
    assert sent == [] and list(tmp_path.iterdir()) == []


def test_saved_file_is_world_readable_and_holds_registrar_and_zone_forms(tmp_path):
    old = os.umask(0o077)
    try:
        path = clipboard.save_records([SPF, DKIM], tmp_path / "out", "example.com")
    finally:
        os.umask(old)
    assert path == tmp_path / "out" / "example.com.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    text = path.read_text()
    assert "; value (one string): " + LONG_DKIM in text
    assert "feb2026._domainkey\t3600\tIN\tTXT\t( " in text
    assert '@\t3600\tIN\tTXT\t"v=spf1 ip4:192.0.2.10 -all"' in text


def test_saving_twice_never_overwrites(tmp_path):
    first = clipboard.save_text(tmp_path, "spf", "one\n")
    second = clipboard.save_text(tmp_path, "spf", "two\n")
    assert (first.name, second.name) == ("spf.txt", "spf-2.txt")
    assert first.read_text() == "one\n" and second.read_text() == "two\n"


def test_hostile_stem_cannot_escape_the_directory(tmp_path):
    path = clipboard.save_text(tmp_path, "../../etc/passwd", "x\n")
    assert path.parent == tmp_path


def test_records_directory_prefers_cwd_and_falls_back_to_home(tmp_path):
    writable, home = tmp_path / "w", tmp_path / "h"
    writable.mkdir()
    assert clipboard.records_directory(writable, home) == writable / "smewizard-records"
    unusable = tmp_path / "gone"  # e.g. the admin started us from a deleted directory
    assert clipboard.records_directory(unusable, home) == home / "smewizard-records"
