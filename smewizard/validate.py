"""Validation of every value that can reach a command or a file path.

Each validator returns the normalised value or raises `InvalidValue` with a message a user can
act on. Nothing that reaches `Host.run` may skip these: values are argv elements, never shell
text, but a value starting with "-" could still be read as an option, and a "|" or newline in
an e-smith db value corrupts the record (SME's `db` does not escape them).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata


class InvalidValue(ValueError):
    """A value that must not be used; the message says which and why."""


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_DB_KEY = re.compile(r"^[A-Za-z0-9@_][A-Za-z0-9@._+-]{0,127}$")
_EVENT = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
# Unicode categories that change how a value displays or where a line ends (NEL, U+2028 are
# line breaks to str.splitlines; bidi overrides make a command read differently than it runs).
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_USER = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")


def domain_name(value: str) -> str:
    """A DNS host/domain name (LDH labels, at least two labels); returned lower case, no dot."""
    if not isinstance(value, str):
        raise InvalidValue("domain name must be text")
    shown = value if len(value) <= 80 else value[:77] + "..."
    if not value.strip().isascii() or any(c in value.strip() for c in "\r\n\t\x00"):
        # non-ASCII could lower-case into ASCII ("\u212a" -> "k") and differ from what a
        # caller keeps; IDNs must be given in their xn-- form
        raise InvalidValue(f"{shown!r} has characters a domain name cannot have (use the xn-- form)")
    name = value.strip().rstrip(".").lower()
    if not name:
        raise InvalidValue("domain name is empty")
    if len(name) > 253:
        raise InvalidValue(f"domain name {shown!r} is longer than 253 characters")
    labels = name.split(".")
    if len(labels) < 2:
        raise InvalidValue(f"{shown!r} is not a fully qualified domain name (needs a dot)")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise InvalidValue(
                f"{shown!r} is not a valid domain name: label {label[:63]!r} must be 1-63 "
                "letters, digits or hyphens, not starting or ending with a hyphen"
            )
    if labels[-1].isdigit():
        raise InvalidValue(f"{shown!r} looks like an IP address, not a domain name")
    return name


def dns_label(value: str, what: str = "selector") -> str:
    """One DNS label, e.g. a DKIM selector (lower-cased)."""
    if not isinstance(value, str) or not value.isascii() or not _LABEL.fullmatch(value.lower()):
        raise InvalidValue(
            f"{what} {value!r} must be one DNS label: 1-63 letters, digits or hyphens, "
            "not starting or ending with a hyphen, no spaces or dots"
        )
    return value.lower()


def ip_address(value: str) -> str:
    """An IPv4 or IPv6 address, normalised."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise InvalidValue(f"{value!r} is not an IP address") from None


def ip_network(value: str) -> str:
    """An IPv4/IPv6 network in CIDR form with no host bits set ("203.0.113.0/24")."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=True))
    except ValueError as exc:
        raise InvalidValue(f"{value!r} is not a network in CIDR form: {exc}") from None


def db_name(value: str) -> str:
    """An e-smith database name (configuration, accounts, domains, …)."""
    if not isinstance(value, str) or not _DB_NAME.fullmatch(value):
        raise InvalidValue(f"{value!r} is not an e-smith database name")
    return value


def db_key(value: str) -> str:
    """An e-smith db record key (qpsmtpd, example.com, @baddomain.test, dmarc-feedback)."""
    if not isinstance(value, str) or not _DB_KEY.fullmatch(value):
        raise InvalidValue(
            f"{value!r} is not a valid db key: letters, digits and @ . _ + - only, "
            "not starting with - or ."
        )
    return value


def db_prop(value: str) -> str:
    """An e-smith db property name (DKIMSigning, HeloHost, TagLevel)."""
    if not isinstance(value, str) or not _DB_NAME.fullmatch(value):
        raise InvalidValue(f"{value!r} is not a valid db property name")
    return value


def db_value(value: str) -> str:
    """A db property value: no |, no newline or control character, not starting with '-'."""
    if not isinstance(value, str):
        raise InvalidValue("db value must be text")
    if "|" in value:
        raise InvalidValue(f"db value {value!r} contains '|', which would corrupt the record")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidValue(f"db value {value!r} contains a newline or control character")
    if any(unicodedata.category(c) in _INVISIBLE for c in value):
        raise InvalidValue(
            f"db value {value!r} contains an invisible or line-breaking character "
            "(control, format/bidi, line or paragraph separator)"
        )
    if value.startswith("-"):
        raise InvalidValue(f"db value {value!r} starts with '-' and would be read as an option")
    if len(value) > 4096:
        raise InvalidValue("db value is longer than 4096 characters")
    return value


def event_name(value: str) -> str:
    """A signal-event event name (email-update, pseudonym-create)."""
    if not isinstance(value, str) or not _EVENT.fullmatch(value):
        raise InvalidValue(f"{value!r} is not a valid event name")
    return value


def user_name(value: str) -> str:
    """A Unix/SME account name."""
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise InvalidValue(f"{value!r} is not a valid account name")
    return value


def number(value: str, what: str, low: float, high: float) -> float:
    """A decimal number within [low, high], e.g. a SpamAssassin threshold."""
    try:
        num = float(str(value).strip())
    except ValueError:
        raise InvalidValue(f"{what} {value!r} is not a number") from None
    if num != num or not (low <= num <= high):
        raise InvalidValue(f"{what} {value!r} must be between {low:g} and {high:g}")
    return num


def sme_path(value: str) -> str:
    """An absolute server path with no '..' components, NUL or newline."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise InvalidValue(f"path {value!r} must be absolute")
    if "\x00" in value or "\n" in value:
        raise InvalidValue("path contains a NUL or newline")
    if any(part == ".." for part in value.split("/")):
        raise InvalidValue(f"path {value!r} must not contain '..'")
    return value


_STAMP = re.compile(r"^[0-9]{8}T[0-9]{6}(?:-[0-9a-f]{1,8})?$")
_PRIVATE_KEY_MARK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def file_mode(value: int) -> int:
    """Unix permission bits (0 … 0o7777) as an int, e.g. 0o400."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o7777:
        raise InvalidValue(f"file mode {value!r} must be a number between 0000 and 7777 (octal)")
    return value


def group_name(value: str) -> str:
    """A Unix group name (same rules as account names)."""
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise InvalidValue(f"{value!r} is not a valid group name")
    return value


def stamp(value: str) -> str:
    """A time stamp used in archive names: 20261125T012016 (optionally -hex)."""
    if not isinstance(value, str) or not _STAMP.fullmatch(value):
        raise InvalidValue(f"{value!r} is not a time stamp like 20261125T012016")
    return value


def file_text(value: str, limit: int = 1 << 20) -> str:
    """Text the wizard writes to a file: no NUL, bounded, never a private key (keys are
    generated on the server by their own action and never travel in plans or logs)."""
    if not isinstance(value, str):
        raise InvalidValue("file content must be text")
    if "\x00" in value:
        raise InvalidValue("file content contains a NUL byte")
    if len(value.encode("utf-8", "surrogatepass")) > limit:
        raise InvalidValue(f"file content is larger than {limit} bytes")
    if _PRIVATE_KEY_MARK.search(value):
        raise InvalidValue("file content is a private key; keys are generated on the server, never copied")
    return value
