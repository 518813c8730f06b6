"""The audit log on the server: one JSON line per action applied (docs/safe-apply.md).

`/var/log/smewizard/audit.log`, mode 0640, appended with O_APPEND and fsync (one write per
line, so concurrent writers never interleave and a crash loses at most the line being written).
Key material never reaches it: every text field is scrubbed of PEM private keys and long
base64 runs (key bytes) before the line is built, and a line that still looks like key material
after scrubbing is refused.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import time
from collections.abc import Mapping
from typing import Any

from smewizard.host.base import Host, NotFound

LOG_DIR = "/var/log/smewizard"
AUDIT_LOG = f"{LOG_DIR}/audit.log"
OUTPUT_TAIL = 500

_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
_PEM_ANY = re.compile(r"-----(?:BEGIN|END) [A-Z0-9 ]*PRIVATE KEY-----")
# 40+ base64 characters in a row: key bytes (a 2048-bit key's PEM lines are 64). Short values
# (hashes in hex, db values, selectors) stay readable.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


class KeyMaterialError(ValueError):
    """A line meant for a log still looked like key material after scrubbing."""


_PEM_TAIL = re.compile(r"\A.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S)


def scrub(text: str) -> str:
    """The text with private keys and base64 blobs replaced by a placeholder. A text that
    starts inside a key (an output tail cut mid-key) loses everything up to the END line."""
    text = _PEM_BLOCK.sub("[private key removed]", text)
    first_end = text.find("-----END ")
    if first_end != -1 and _PEM_TAIL.match(text):
        text = _PEM_TAIL.sub("[end of a private key removed]", text, count=1)
    text = _PEM_ANY.sub("[private key marker removed]", text)
    return _BASE64_RUN.sub(_redact_if_random, text)


def _redact_if_random(match: re.Match[str]) -> str:
    run = match.group(0)
    return f"[{len(run)} base64 characters removed]" if _is_key_like(run) else run


def _is_key_like(run: str) -> bool:
    """Random base64 mixes upper, lower and digits and has few '/'; paths and words do not."""
    return (
        any(c.isupper() for c in run)
        and any(c.islower() for c in run)
        and any(c.isdigit() for c in run)
        and run.count("/") <= len(run) // 10 + 2
    )


def scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {str(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value


def looks_like_key_material(text: str) -> bool:
    return bool(_PEM_ANY.search(text)) or any(_is_key_like(m.group(0)) for m in _BASE64_RUN.finditer(text))


def safe_json_line(entry: Mapping[str, Any]) -> str:
    """One scrubbed JSON line (no newline inside); raises KeyMaterialError as a last guard."""
    line = json.dumps(scrub_value(dict(entry)), sort_keys=True, ensure_ascii=True)
    if looks_like_key_material(line):
        raise KeyMaterialError("refusing to log a line that looks like key material")
    return line


def current_user() -> str:
    """Who ran the wizard: the login name behind sudo when there is one."""
    for name in ("SUDO_USER", "LOGNAME", "USER"):
        if os.environ.get(name):
            return f"{os.environ[name]} (uid {os.geteuid()})"
    try:
        return f"{getpass.getuser()} (uid {os.geteuid()})"
    except (KeyError, OSError):
        return f"uid {os.geteuid()}"


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def ensure_dir(host: Host, path: str, mode: int = 0o750) -> None:
    """Create `path` and missing parents (SME paths), like mkdir -p."""
    parts = [p for p in path.split("/") if p]
    current = ""
    for part in parts:
        current += "/" + part
        if not host.exists(current):
            host.mkdir(current, mode=mode)


def append_line(host: Host, path: str, line: str, mode: int = 0o640) -> None:
    """Append one line: O_APPEND + fsync where the host can, else rewrite atomically."""
    if "\n" in line:
        raise ValueError("a log line must not contain a newline")
    ensure_dir(host, path.rsplit("/", 1)[0])
    data = line.encode("utf-8") + b"\n"
    append = getattr(host, "append_bytes", None)
    if append is not None:
        append(path, data, mode=mode)
        return
    try:
        old = host.read_bytes(path)
    except NotFound:
        old = b""
    host.write_atomic(path, old + data, mode=mode)


def write_audit(host: Host, entry: Mapping[str, Any], path: str = AUDIT_LOG) -> None:
    append_line(host, path, safe_json_line(entry))


def read_audit(host: Host, path: str = AUDIT_LOG) -> list[dict[str, Any]]:
    try:
        text = host.read_text(path)
    except NotFound:
        return []
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
