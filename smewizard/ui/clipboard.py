"""Getting a DNS record from the wizard to the registrar's form: copy and save, UI-free.

Three ways, because none works everywhere:
- OSC 52 through the terminal (`App.copy_to_clipboard`): works over SSH in most terminals, but
  tmux needs `set -g set-clipboard on` and some terminals ignore it silently;
- the local clipboard through pyperclip, only when a desktop session exists (DISPLAY/WAYLAND);
- a file under a directory the admin can find, written 0644 and never overwriting anything.

Records are public data. Anything that looks like private-key material is refused outright.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from smewizard.model import Record

RECORDS_DIR_NAME = "smewizard-records"
TMUX_HINT = (
    "Nothing to paste? Your terminal may block OSC 52 (tmux: `set -g set-clipboard on`); "
    "press s to save to a file, or select the text."
)


class PrivateMaterialRefused(ValueError):
    """The text looks like a private key; the wizard never copies or saves one."""


_PRIVATE_MARKERS = ("PRIVATE KEY", "BEGIN OPENSSH", "BEGIN RSA", "BEGIN EC ")


def ensure_public(text: str) -> str:
    if any(marker in text.upper() for marker in _PRIVATE_MARKERS):
        raise PrivateMaterialRefused("refusing to copy or save what looks like a private key")
    return text


# ------------------------------------------------------------------ renderings
def record_value_text(record: Record) -> str:
    """The value as one string: what most registrar forms want (they split long TXT themselves)."""
    return record.value


def record_chunked_text(record: Record) -> str:
    """TXT value as quoted 255-octet strings ("a" "b"), for forms and zone files that need them."""
    return record.quoted_chunks() if record.rtype == "TXT" else record.value


def records_file_text(records: Sequence[Record]) -> str:
    """A readable file: for each record, the registrar fields and a BIND zone-file line."""
    blocks = []
    for record in records:
        zone = record.domain
        lines = [
            f"; {record.note}" if record.note else None,
            f"; name:  {record.relative_name(zone) if zone else record.name + '.'}"
            + (f"   (in zone {zone})" if zone else ""),
            f"; type:  {record.rtype}",
            f"; TTL:   {record.ttl}",
            f"; value (one string): {record_value_text(record)}",
        ]
        if record.rtype == "TXT" and len(record.chunks()) > 1:
            lines.append(f"; value (255-octet strings): {record_chunked_text(record)}")
        lines.append(record.zone_line(zone))
        blocks.append("\n".join(line for line in lines if line is not None))
    return ensure_public("\n\n".join(blocks) + "\n")


# ------------------------------------------------------------------ copy
@dataclass(frozen=True)
class CopyOutcome:
    """Which routes the text took, for the notification."""

    osc52: bool
    local: bool
    local_error: str | None = None

    def describe(self) -> str:
        routes = []
        if self.osc52:
            routes.append("terminal clipboard (OSC 52)")
        if self.local:
            routes.append("this machine's clipboard")
        text = "Copied to the " + " and ".join(routes) + "." if routes else "Could not copy."
        if not self.local:
            text += " " + TMUX_HINT
        return text


def local_clipboard_available(env: Mapping[str, str] | None = None) -> bool:
    """A desktop clipboard can only exist with a display server; over SSH there is none."""
    env = os.environ if env is None else env
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def copy_local(text: str) -> str | None:
    """Copy with pyperclip; None on success, else why it failed."""
    try:
        import pyperclip

        pyperclip.copy(text)
    except Exception as exc:  # noqa: BLE001 - pyperclip raises its own and OS errors alike
        return str(exc) or type(exc).__name__
    return None


def copy_text(
    text: str,
    terminal_copy: Callable[[str], None],
    *,
    env: Mapping[str, str] | None = None,
    local_copy: Callable[[str], str | None] = copy_local,
) -> CopyOutcome:
    """Copy by every route that can work here. `terminal_copy` is `App.copy_to_clipboard`."""
    ensure_public(text)
    terminal_copy(text)
    if not local_clipboard_available(env):
        return CopyOutcome(osc52=True, local=False)
    error = local_copy(text)
    return CopyOutcome(osc52=True, local=error is None, local_error=error)


# ------------------------------------------------------------------ save
def records_directory(cwd: Path | None = None, home: Path | None = None) -> Path:
    """./smewizard-records when the current directory is writable, else ~/smewizard-records."""
    cwd = Path.cwd() if cwd is None else cwd
    home = Path.home() if home is None else home
    if os.access(cwd, os.W_OK):
        return cwd / RECORDS_DIR_NAME
    return home / RECORDS_DIR_NAME


def save_text(directory: Path, stem: str, text: str) -> Path:
    """Write `text` to DIRECTORY/STEM.txt (or STEM-2.txt, … if taken), mode 0644; the path."""
    ensure_public(text)
    directory.mkdir(parents=True, exist_ok=True)
    safe_stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip(".") or "records"
    data = text.encode("utf-8")
    for attempt in range(1, 1000):
        name = f"{safe_stem}.txt" if attempt == 1 else f"{safe_stem}-{attempt}.txt"
        path = directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        os.fchmod(fd, 0o644)  # the umask must not make a public record unreadable
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return path
    raise FileExistsError(f"{directory}: too many files named {safe_stem}-N.txt")


def save_records(records: Sequence[Record], directory: Path, stem: str) -> Path:
    return save_text(directory, stem, records_file_text(records))
