"""Pure DKIM logic: selector files as qpsmtpd reads them, keys, the record, the real proof."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smewizard.mail import dkim as mk


@pytest.fixture(scope="module")
def pem() -> bytes:
    return mk.generate_private_key_pem()


@pytest.fixture(scope="module")
def other_pem() -> bytes:
    return mk.generate_private_key_pem()


# ---------------------------------------------------------------- selector file
@pytest.mark.parametrize(
    ("raw", "used", "problems"),
    [
        (b"nov2026\n", "nov2026", set()),
        (b"nov2026", "nov2026", set()),
        (b"nov2026\r\n", "nov2026\r", {mk.SelectorProblem.TRAILING_CR}),
        (b"", "", {mk.SelectorProblem.EMPTY}),
        (b"\n", "", {mk.SelectorProblem.EMPTY}),
        (b"nov2026 \n", "nov2026 ", {mk.SelectorProblem.SPACES}),
        (b"nov 2026\n", "nov 2026", {mk.SelectorProblem.SPACES, mk.SelectorProblem.INVALID_LABEL}),
        (b"nov_2026\n", "nov_2026", {mk.SelectorProblem.INVALID_LABEL}),
        (b"sel.one\n", "sel.one", {mk.SelectorProblem.INVALID_LABEL}),
        (b"nov2026\nextra\n", "nov2026", {mk.SelectorProblem.EXTRA_LINES}),
    ],
)
def test_selector_is_read_like_the_plugin_and_each_problem_is_named(raw, used, problems):
    check = mk.check_selector(raw)
    assert check.used == used
    assert set(check.problems) == problems
    assert check.ok is (not problems)


def test_only_one_newline_is_removed_like_perl_chomp():
    assert mk.plugin_selector(b"nov2026\n\n") == "nov2026"
    assert mk.plugin_selector(b"nov2026\r\n") == "nov2026\r"


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True))
def test_any_clean_label_with_newline_passes(label):
    assert mk.check_selector(label.encode() + b"\n").ok


def test_dated_selector_and_suffix_when_taken():
    assert mk.dated_selector(date(2026, 11, 25)) == "nov2026"
    assert mk.dated_selector(date(2026, 2, 1)) == "feb2026"
    assert mk.dated_selector(date(2026, 11, 2), frozenset({"nov2026"})) == "nov2026b"


def test_smtpd_home_is_read_from_passwd():
    text = "root:x:0:0::/root:/bin/bash\nsmtpd:x:453:453:qpsmtpd:/var/service/qpsmtpd:/bin/false\n"
    assert mk.smtpd_home(text) == "/var/service/qpsmtpd"
    assert mk.smtpd_home("root:x:0:0::/root:/bin/sh\n") is None


# ---------------------------------------------------------------- keys
def test_generated_key_is_2048_bit_pkcs8_and_its_public_half_is_derived(pem):
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    info = mk.inspect_private_key(pem)
    assert info.ok and info.bits == 2048 and info.key_type == "rsa"
    assert info.public_b64.startswith("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A")


@pytest.mark.parametrize("junk", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_unparseable_key_is_reported_without_echoing_its_bytes(junk):
    info = mk.inspect_private_key(junk)
    assert not info.ok
    assert info.error == "not a readable PEM private key"


def test_small_key_reports_its_size():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    assert mk.inspect_private_key(pem).bits == 1024


# ---------------------------------------------------------------- record
def test_record_value_name_and_chunks(pem):
    public = mk.inspect_private_key(pem).public_b64
    rec = mk.dkim_record("example.com", "nov2026", public)
    assert rec.name == "nov2026._domainkey.example.com"
    assert rec.value == f"v=DKIM1; k=rsa; p={public}"
    assert len(rec.chunks()) == 2 and all(len(c) <= 255 for c in rec.chunks())
    assert "".join(rec.chunks()) == rec.value
    assert rec.zone_line("example.com").startswith("nov2026._domainkey\t3600\tIN\tTXT\t( \"v=DKIM1")


def test_test_mode_record_says_why_and_that_t_n_is_not_a_flag(pem):
    public = mk.inspect_private_key(pem).public_b64
    rec = mk.dkim_record("example.com", "nov2026", public, test_mode=True)
    assert rec.value.endswith("; t=y")
    assert "t=n" in rec.note and "RFC 6376" in rec.note


def test_parse_record_tags_flags_and_errors():
    parsed = mk.parse_dkim_txt("v=DKIM1; k=rsa; t=y:s; p=ABC DEF")
    assert parsed.test_mode and parsed.public_b64 == "ABCDEF" and not parsed.errors
    assert mk.parse_dkim_txt("v=DKIM1; p=").revoked
    assert mk.parse_dkim_txt("v=DKIM1; t=n; p=AB").unknown_flags == ("n",)
    assert mk.parse_dkim_txt("k=rsa; v=DKIM1; p=AB").errors
    assert mk.parse_dkim_txt("v=DKIM1; k=ed25519; p=AB").errors
    assert mk.parse_dkim_txt("v=DKIM1; k=rsa").errors


def test_public_keys_match_compares_keys_not_text(pem, other_pem):
    a = mk.inspect_private_key(pem).public_b64
    b = mk.inspect_private_key(other_pem).public_b64
    spaced = " ".join(a[i:i + 60] for i in range(0, len(a), 60))
    assert mk.public_keys_match(spaced, a)
    assert not mk.public_keys_match(b, a)


# ---------------------------------------------------------------- proof
def _txt(values):
    return lambda name: values


def test_proof_verifies_with_the_matching_record(pem):
    public = mk.inspect_private_key(pem).public_b64
    proof = mk.prove_key(pem, "example.com", "nov2026", _txt((mk.dkim_record_value(public, test_mode=True),)))
    assert proof.outcome is mk.ProofOutcome.VERIFIED


def test_proof_fails_with_another_key(pem, other_pem):
    public = mk.inspect_private_key(other_pem).public_b64
    proof = mk.prove_key(pem, "example.com", "nov2026", _txt((mk.dkim_record_value(public),)))
    assert proof.outcome is mk.ProofOutcome.MISMATCH


def test_proof_names_absent_revoked_and_unreachable_records(pem):
    assert mk.prove_key(pem, "example.com", "s", _txt(None)).outcome is mk.ProofOutcome.NO_RECORD
    revoked = mk.prove_key(pem, "example.com", "s", _txt(("v=DKIM1; k=rsa; p=",)))
    assert revoked.outcome is mk.ProofOutcome.BAD_RECORD

    def failing(name):
        raise mk.DnsUnavailable("no answer in time (DNS timeout)")

    assert mk.prove_key(pem, "example.com", "s", failing).outcome is mk.ProofOutcome.DNS_FAILED


def test_tampered_body_does_not_verify(pem):
    public = mk.inspect_private_key(pem).public_b64
    signed = mk.sign_message(mk.sample_message("example.com"), pem, "example.com", "nov2026")
    tampered = signed.replace(b"verified against DNS", b"verified against XYZ")
    proof = mk.verify_signed(tampered, _txt((mk.dkim_record_value(public),)))
    assert proof.outcome is mk.ProofOutcome.MISMATCH


def test_dkimpy_sees_only_the_first_txt(pem, other_pem):
    good = mk.dkim_record_value(mk.inspect_private_key(pem).public_b64)
    bad = mk.dkim_record_value(mk.inspect_private_key(other_pem).public_b64)
    assert mk.prove_key(pem, "example.com", "s", _txt((good, bad))).verified
    assert not mk.prove_key(pem, "example.com", "s", _txt((bad, good))).verified


# ---------------------------------------------------------------- rotation
@pytest.mark.parametrize(
    ("kwargs", "stage"),
    [
        (dict(new_selector=None, new_published=False, new_verified=False, switched=False, old_published=True),
         mk.RotationStage.GENERATE_NEW),
        (dict(new_selector="dec2026", new_published=False, new_verified=False, switched=False, old_published=True),
         mk.RotationStage.PUBLISH_NEW),
        (dict(new_selector="dec2026", new_published=True, new_verified=False, switched=False, old_published=True),
         mk.RotationStage.VERIFY_NEW),
        (dict(new_selector="dec2026", new_published=True, new_verified=True, switched=False, old_published=True),
         mk.RotationStage.SWITCH),
        (dict(new_selector="dec2026", new_published=True, new_verified=True, switched=True, old_published=True),
         mk.RotationStage.RETIRE_OLD),
        (dict(new_selector="dec2026", new_published=True, new_verified=True, switched=True, old_published=False),
         None),
    ],
)
def test_rotation_stages_follow_the_safe_order(kwargs, stage):
    assert mk.Rotation(old_selector="nov2026", **kwargs).next_stage == stage


def test_archive_name_never_reuses_a_taken_name():
    base = mk.archive_name("/etc/qpsmtpd/dkim/example.com", mk.date_stamp(date(2026, 11, 25)))
    assert base == "/etc/qpsmtpd/dkim/example.com.OLD-backup-20261125"
    assert mk.archive_name("/x", "20261125", frozenset({"/x.OLD-backup-20261125"})).endswith("-2")


def test_secret_bytes_never_show_in_repr_str_or_format(pem):
    secret = mk.SecretBytes(pem)
    body = pem.decode().splitlines()[1]
    for text in (repr(secret), str(secret), f"{secret}", repr([secret]), repr({"k": secret})):
        assert body not in text and "hidden" in text
    assert mk.inspect_private_key(secret).ok
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)


def test_sign_failure_is_swallowed_without_a_traceback(pem):
    proof = mk.prove_key(mk.SecretBytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                         "example.com", "s", _txt(None))
    assert proof.outcome is mk.ProofOutcome.SIGN_FAILED
