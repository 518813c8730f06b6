"""DKIM, pure logic: SME's key layout, selector files, keys, the TXT record, proof, rotation.

Nothing here touches the server or the network. Private keys come in as bytes and are only
parsed in memory to derive the public half or to sign a sample message; no function returns,
formats or raises with private-key material (errors are fixed strings).
"""

from __future__ import annotations

import base64
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from smewizard import validate
from smewizard.model import Record

# ---------------------------------------------------------------- SME layout (guide Part 2)
KEYS_DIR = "/home/e-smith/dkim_keys"
DEFAULT_KEY_NAME = "default"  # the server-wide fallback directory under KEYS_DIR
SELECTOR_FILE = "selector"
PRIVATE_FILE = "default"  # SME names the private key file "default"
LINKS_DIR = "/var/service/qpsmtpd/config/dkim"
LINK_SELECTOR = "selector"  # names the qpsmtpd dkim plugin opens
LINK_PRIVATE = "private"
WRONG_DIRS = ("/etc/qpsmtpd/dkim",)  # plus ~smtpd/config/dkim (home from /etc/passwd)
KEY_OWNER = "qpsmtpd"
KEY_MODE = 0o400
MIN_BITS = 2048  # below: warn; RFC 8301 says verifiers must refuse keys below 1024
WEAK_BITS = 1024
GENERATED_BITS = 2048


def key_dir(name: str) -> str:
    """SME's key directory for a domain, or for the `default` fallback."""
    return f"{KEYS_DIR}/{name}"


def link_dir(domain: str) -> str:
    return f"{LINKS_DIR}/{domain}"


def smtpd_home(passwd_text: str) -> str | None:
    """The home directory of the `smtpd` user in an /etc/passwd text."""
    for line in passwd_text.splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and fields[0] == "smtpd" and fields[5].startswith("/"):
            return fields[5].rstrip("/") or "/"
    return None


# ---------------------------------------------------------------- selector file
class SelectorProblem(enum.StrEnum):
    EMPTY = "empty"
    TRAILING_CR = "trailing-cr"
    SPACES = "spaces"
    INVALID_LABEL = "invalid-label"
    EXTRA_LINES = "extra-lines"


@dataclass(frozen=True)
class SelectorCheck:
    """What the qpsmtpd plugin will use as selector, and what is wrong with the file."""

    used: str  # first line, one trailing "\n" removed (Perl chomp), exactly as the plugin reads it
    problems: tuple[SelectorProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def cleaned(self) -> str:
        """The selector the admin most likely meant (whitespace and CR stripped)."""
        return self.used.strip()


def plugin_selector(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    first, newline, _ = text.partition("\n")
    return first if newline else text


def check_selector(raw: bytes) -> SelectorCheck:
    used = plugin_selector(raw)
    problems: list[SelectorProblem] = []
    if not used.strip():
        problems.append(SelectorProblem.EMPTY)
    else:
        if "\r" in used:
            problems.append(SelectorProblem.TRAILING_CR)
        if " " in used or "\t" in used:
            problems.append(SelectorProblem.SPACES)
        if not _label_ok(used.strip(" \t\r")):
            problems.append(SelectorProblem.INVALID_LABEL)
    rest = raw.decode("utf-8", errors="replace").partition("\n")[2]
    if rest.strip():
        problems.append(SelectorProblem.EXTRA_LINES)
    return SelectorCheck(used, tuple(problems))


def _label_ok(text: str) -> bool:
    try:
        validate.dns_label(text)
    except validate.InvalidValue:
        return False
    return True


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def dated_selector(today: date, taken: tuple[str, ...] | frozenset[str] = ()) -> str:
    """A dated selector such as `nov2026` (guide Part 2), with a letter suffix when that name
    is already in use (a rotation in the same month: `nov2026b`)."""
    base = f"{_MONTHS[today.month - 1]}{today.year}"
    used = {t.lower() for t in taken}
    if base not in used:
        return base
    for suffix in "bcdefghijklmnopqrstuvwxyz":
        if base + suffix not in used:
            return base + suffix
    raise ValueError("no free dated selector this month")


# ---------------------------------------------------------------- keys
class SecretBytes:
    """Private-key bytes that never show: repr/str say only how long they are, so a traceback
    with locals (Textual, rich), a log line or an f-string cannot print them."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)

    def reveal(self) -> bytes:
        return self._data

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<private key material, {len(self._data)} bytes, hidden>"

    __str__ = __repr__

    def __reduce__(self):  # never pickled or copied into another process
        raise TypeError("private key material cannot be serialised")


def _raw(key: SecretBytes | bytes) -> bytes:
    return key.reveal() if isinstance(key, SecretBytes) else key


@dataclass(frozen=True)
class KeyInfo:
    """The parse result of a private key. Holds only public data."""

    ok: bool
    error: str = ""
    key_type: str = ""
    bits: int = 0
    public_b64: str = ""  # base64 DER SubjectPublicKeyInfo: the record's p= value


def inspect_private_key(pem: SecretBytes | bytes) -> KeyInfo:
    """Parse a private key in memory and derive its public half."""
    try:
        key = serialization.load_pem_private_key(_raw(pem), password=None)
    except TypeError:
        return KeyInfo(False, "the key is protected by a passphrase; qpsmtpd cannot use it")
    except (ValueError, Exception):  # noqa: BLE001 - never echo parser details about key bytes
        return KeyInfo(False, "not a readable PEM private key")
    if not isinstance(key, rsa.RSAPrivateKey):
        return KeyInfo(False, "not an RSA key (the qpsmtpd dkim plugin signs with RSA)",
                       key_type=type(key).__name__)
    return KeyInfo(True, "", "rsa", key.key_size, public_b64_of(key.public_key()))


def public_b64_of(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def generate_private_key_pem(bits: int = GENERATED_BITS) -> bytes:
    """A new RSA key as unencrypted PKCS#8 PEM, the format `openssl genrsa` (OpenSSL 3) writes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def looks_like_private_key(text: str | bytes) -> bool:
    data = text.encode() if isinstance(text, str) else text
    return b"PRIVATE KEY" in data


# ---------------------------------------------------------------- the TXT record
def dkim_record_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dkim_record_value(public_b64: str, *, test_mode: bool = False) -> str:
    value = f"v=DKIM1; k=rsa; p={public_b64}"
    return value + "; t=y" if test_mode else value


TEST_MODE_NOTE = (
    "t=y marks DKIM test mode (RFC 6376 3.6.1): verifiers must treat the domain's mail as "
    "unsigned, so it gives no DKIM protection or DMARC alignment. Publish without it once "
    "signing is verified. The guide's `t=n` is not a DKIM flag (RFC 6376 defines only y and s; "
    "unknown flags are ignored): to leave test mode, remove t=y."
)


def dkim_record(
    domain: str, selector: str, public_b64: str, *, test_mode: bool = False, ttl: int = 3600
) -> Record:
    note = "DKIM public key for selector " + selector
    if test_mode:
        note += ". " + TEST_MODE_NOTE
    return Record(
        name=dkim_record_name(selector, domain),
        rtype="TXT",
        value=dkim_record_value(public_b64, test_mode=test_mode),
        ttl=ttl,
        domain=domain,
        note=note,
    )


@dataclass(frozen=True)
class DkimTxt:
    """A published DKIM key record, parsed (RFC 6376 3.6.1)."""

    tags: tuple[tuple[str, str], ...]
    errors: tuple[str, ...]

    def tag(self, name: str) -> str | None:
        for key, value in self.tags:
            if key == name:
                return value
        return None

    @property
    def public_b64(self) -> str:
        return re.sub(r"\s+", "", self.tag("p") or "")

    @property
    def revoked(self) -> bool:
        return self.tag("p") is not None and not self.public_b64

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(f.strip() for f in (self.tag("t") or "").split(":") if f.strip())

    @property
    def test_mode(self) -> bool:
        return "y" in self.flags

    @property
    def unknown_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f not in ("y", "s"))


def parse_dkim_txt(value: str) -> DkimTxt:
    tags: list[tuple[str, str]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, part in enumerate(value.split(";")):
        if not part.strip():
            continue
        name, eq, tag_value = part.partition("=")
        name = name.strip()
        if not eq or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            errors.append(f"malformed tag {part.strip()[:40]!r}")
            continue
        if name in seen:
            errors.append(f"tag {name}= appears twice")
        seen.add(name)
        tags.append((name, tag_value.strip()))
        if name == "v" and (index != 0 or tag_value.strip() != "DKIM1"):
            errors.append("v= must be the first tag and be DKIM1")
    parsed = DkimTxt(tuple(tags), tuple(errors))
    if parsed.tag("p") is None:
        errors.append("no p= tag (the public key)")
    key_type = parsed.tag("k")
    if key_type is not None and key_type.lower() != "rsa":
        errors.append(f"k={key_type} but the server signs with RSA")
    return DkimTxt(tuple(tags), tuple(errors))


def public_keys_match(record_b64: str, server_b64: str) -> bool:
    """Same RSA public key (comparing decoded DER, whitespace-insensitive)."""
    try:
        a = base64.b64decode(re.sub(r"\s+", "", record_b64), validate=True)
        b = base64.b64decode(server_b64, validate=True)
    except ValueError:
        return False
    if a == b:
        return True
    try:  # a record may carry a bare PKCS#1 RSAPublicKey; compare the numbers
        ka = serialization.load_der_public_key(a)
        kb = serialization.load_der_public_key(b)
    except ValueError:
        return False
    return ka.public_numbers() == kb.public_numbers()  # type: ignore[union-attr]


# ---------------------------------------------------------------- proof (real DKIM)
class ProofOutcome(enum.StrEnum):
    VERIFIED = "verified"  # a message signed with the server's key verifies against DNS
    MISMATCH = "mismatch"  # DNS answered, the signature does not verify with that key
    NO_RECORD = "no-record"
    DNS_FAILED = "dns-failed"  # could not ask: unknown, never a reason to change anything
    BAD_RECORD = "bad-record"  # published text is not a usable DKIM key
    SIGN_FAILED = "sign-failed"


@dataclass(frozen=True)
class Proof:
    outcome: ProofOutcome
    detail: str = ""

    @property
    def verified(self) -> bool:
        return self.outcome is ProofOutcome.VERIFIED


class DnsUnavailable(Exception):
    """Raised by a DNS function when the lookup failed (timeout, SERVFAIL)."""


# The answer of a DNS function: the TXT texts at a name, or None when provably absent.
TxtFunc = Callable[[str], tuple[str, ...] | None]

SAMPLE_MESSAGE = (
    b"From: DKIM proof <postmaster@{domain}>\r\n"
    b"To: nobody@{domain}\r\n"
    b"Subject: smewizard DKIM proof\r\n"
    b"Date: Wed, 25 Nov 2026 00:00:00 +0000\r\n"
    b"Message-ID: <dkim-proof@{domain}>\r\n"
    b"\r\n"
    b"This message is signed with the server's key and verified against DNS.\r\n"
)


def sample_message(domain: str) -> bytes:
    return SAMPLE_MESSAGE.replace(b"{domain}", domain.encode("ascii"))


def sign_message(message: bytes, private_pem: SecretBytes | bytes, domain: str, selector: str) -> bytes:
    """`message` with a DKIM-Signature header prepended (relaxed/relaxed, rsa-sha256)."""
    import dkim

    header = dkim.sign(
        message,
        selector.encode("ascii"),
        domain.encode("ascii"),
        _raw(private_pem),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return header + message


@dataclass
class _DnsTrace:
    """What the DNS function saw, so a failed verification can say why."""

    asked: bool = False
    failed: str = ""
    absent: bool = False
    first: str = ""


def dkimpy_dnsfunc(txt_func: TxtFunc, trace: _DnsTrace | None = None) -> Callable[..., bytes | None]:
    """A dnsfunc for dkimpy that asks our resolver. dkimpy only reads the first TXT."""
    trace = trace if trace is not None else _DnsTrace()

    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        qname = name.decode("ascii") if isinstance(name, bytes) else name
        trace.asked = True
        try:
            texts = txt_func(qname.rstrip("."))
        except DnsUnavailable as exc:
            trace.failed = str(exc) or "DNS lookup failed"
            return None
        if not texts:
            trace.absent = True
            return None
        trace.first = texts[0]
        return texts[0].encode("utf-8")

    return dnsfunc


def verify_signed(message: bytes, txt_func: TxtFunc) -> Proof:
    """Verify the message's first DKIM-Signature with keys fetched through `txt_func`."""
    import dkim

    trace = _DnsTrace()
    verifier = dkim.DKIM(message, minkey=WEAK_BITS)
    try:
        ok = verifier.verify(dnsfunc=dkimpy_dnsfunc(txt_func, trace))
    except dkim.DKIMException as exc:  # body hash mismatch, bad signature syntax
        ok, error = False, str(exc)[:200]
    else:
        error = ""
    if ok:
        return Proof(ProofOutcome.VERIFIED, "signature verified with the published key")
    if trace.failed:
        return Proof(ProofOutcome.DNS_FAILED, trace.failed)
    if trace.absent:
        return Proof(ProofOutcome.NO_RECORD, "no DKIM key record at the selector")
    if trace.first:
        parsed = parse_dkim_txt(trace.first)
        if parsed.errors or parsed.revoked:
            reason = "; ".join(parsed.errors) or "p= is empty (key revoked)"
            return Proof(ProofOutcome.BAD_RECORD, reason)
    return Proof(
        ProofOutcome.MISMATCH,
        error or "the published key does not verify a signature made with the server's key",
    )


def prove_key(private_pem: SecretBytes | bytes, domain: str, selector: str,
              txt_func: TxtFunc) -> Proof:
    """Sign a sample message with the server's key, then verify it against DNS as published."""
    try:
        signed = sign_message(sample_message(domain), private_pem, domain, selector)
    except Exception:  # noqa: BLE001 - swallowed whole: a traceback could show the key
        return Proof(ProofOutcome.SIGN_FAILED, "could not sign with the server's key")
    return verify_signed(signed, txt_func)


# ---------------------------------------------------------------- rotation
class RotationStage(enum.IntEnum):
    """Key rotation without a gap (guide Part 2: dated selectors). Each stage must be done
    before the next starts; the old record stays until the admin removes it."""

    GENERATE_NEW = 1  # new key under a new selector, not yet signing
    PUBLISH_NEW = 2  # publish <new>._domainkey next to <old>._domainkey
    VERIFY_NEW = 3  # DNS serves the new record and it verifies against the new key
    SWITCH = 4  # selector file → new selector, email-update
    RETIRE_OLD = 5  # after a few days (mail in flight), the admin removes the old record


ROTATION_TEXT = {
    RotationStage.GENERATE_NEW: "Generate a new key under a new dated selector (not signing yet)",
    RotationStage.PUBLISH_NEW: "Publish the new selector's TXT record next to the old one",
    RotationStage.VERIFY_NEW: "Wait until the new record verifies against the new key",
    RotationStage.SWITCH: "Switch signing to the new selector (selector file, email-update)",
    RotationStage.RETIRE_OLD: "Keep the old record a few days, then remove it at the registrar",
}


@dataclass(frozen=True)
class Rotation:
    """Where a domain's rotation stands: the next stage to do (None when there is none)."""

    old_selector: str
    new_selector: str | None
    new_published: bool
    new_verified: bool
    switched: bool
    old_published: bool

    @property
    def next_stage(self) -> RotationStage | None:
        if self.new_selector is None:
            return RotationStage.GENERATE_NEW
        if not self.switched:
            if not self.new_published:
                return RotationStage.PUBLISH_NEW
            if not self.new_verified:
                return RotationStage.VERIFY_NEW
            return RotationStage.SWITCH
        if self.old_published:
            return RotationStage.RETIRE_OLD
        return None


STAGED_DIR_SUFFIX = ".next"  # dkim_keys/<name>.next/ holds the new key until the switch


def staged_dir(name: str) -> str:
    return f"{KEYS_DIR}/{name}{STAGED_DIR_SUFFIX}"


def date_stamp(today: date) -> str:
    return f"{today:%Y%m%d}"


def archive_name(path: str, stamp: str, taken: tuple[str, ...] | frozenset[str] = ()) -> str:
    """`<path>.OLD-backup-YYYYMMDD` (guide Part 2's `.OLD-backup`), numbered if taken."""
    base = f"{path}.OLD-backup-{stamp}"
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
