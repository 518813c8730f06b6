"""qpsmtpd and qmail logs (daemontools multilog, TAI64N labels) read through a Host.

    summary = read_qpsmtpd(host)                # every rotated file, then `current`
    summary.domain("example.com").last_signed   # LogLine or None
    tail = LogTail(host, QPSMTPD_CURRENT)        # for the live test screen: new lines only
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from smewizard.host.base import Host, HostError, NotFound
from smewizard.logs.scan import (
    CHUNK_SIZE,
    QMAIL_LOG_DIR,
    QPSMTPD_LOG_DIR,
    ROTATED_RE,
    DomainLog,
    LogLine,
    LogSummary,
    Verdicts,
    line_chunks,
    scan_chunks,
    scan_files,
)
from smewizard.logs.tai64n import BadLabel, Tai64n, decode, encode, split_line

QPSMTPD_CURRENT = f"{QPSMTPD_LOG_DIR}/current"
QMAIL_CURRENT = f"{QMAIL_LOG_DIR}/current"
REMOTE_READ_LIMIT = 32 << 20  # over SSH only the newest 32 MB of each file crosses the wire

__all__ = [
    "QMAIL_CURRENT",
    "QPSMTPD_CURRENT",
    "BadLabel",
    "DomainLog",
    "LogLine",
    "LogSummary",
    "LogTail",
    "QmailSummary",
    "Tai64n",
    "Verdicts",
    "decode",
    "encode",
    "log_files",
    "read_qmail",
    "read_qpsmtpd",
    "scan_files",
    "split_line",
]


def log_files(host: Host, directory: str) -> list[str]:
    """multilog's files in `directory`, oldest first: rotated `@<label>.s`/`.u` (their names are
    the rotation time, so name order is time order), then `current`. NotFound if none."""
    try:
        names = host.list_dir(directory)
    except NotFound:
        raise NotFound(f"{directory} does not exist") from None
    rotated = sorted(n for n in names if ROTATED_RE.fullmatch(n))
    files = [f"{directory}/{n}" for n in rotated]
    if "current" in names:
        files.append(f"{directory}/current")
    if not files:
        raise NotFound(f"no multilog files in {directory}")
    return files


def host_blocks(host: Host, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The file's bytes in blocks: streamed from disk when the host is this machine (or a
    simulated root on it), else its last REMOTE_READ_LIMIT bytes through the host (SSH)."""
    real = getattr(host, "real", None)
    if callable(real):
        try:
            fh = open(real(path), "rb", buffering=0)  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise NotFound(f"{path}: no such file or directory") from None
        except PermissionError as exc:
            raise HostError(f"{path}: {exc.strerror}") from None
        with fh:
            while block := fh.read(chunk_size):
                yield block
        return
    yield _remote_tail(host, path, f"{REMOTE_READ_LIMIT}")


def _remote_tail(host: Host, path: str, count: str) -> bytes:
    """`tail -c COUNT PATH` on the server: only the end of a big log crosses the wire (a first
    partial line is dropped by the caller's line handling)."""
    mapping = getattr(host, "_map", None)  # SshHost --root: commands see the server's real path
    result = host.run(["tail", "-c", count, "--", mapping.real(path) if mapping is not None else path])
    if not result.ok:
        if "No such file" in result.stderr:
            raise NotFound(f"{path}: no such file or directory")
        raise HostError(f"cannot read {path}: {result.stderr.strip() or f'tail exited {result.returncode}'}")
    data = result.stdout.encode("utf-8", "surrogateescape")
    if count.isdigit() and len(data) >= int(count):
        data = data[data.find(b"\n") + 1 :]  # the cut fell inside a line
    return data


def read_qpsmtpd(host: Host, directory: str = QPSMTPD_LOG_DIR) -> LogSummary:
    """Scan every qpsmtpd log file (rotated ones first). Raises HostError/NotFound."""
    files = log_files(host, directory)
    return scan_chunks((path, host_blocks(host, path)) for path in files)


# ---------------------------------------------------------------- qmail-send
_QMAIL = re.compile(
    rb"(info msg \d+: bytes \d+ from <([^>\n]*)>|delivery \d+: (success|failure|deferral): )([^\n]*)"
)


@dataclass
class QmailSummary:
    """qmail-send's log: deliveries by outcome, the latest failures, senders' domains seen."""

    files: list[str] = field(default_factory=list)
    deliveries: dict[str, int] = field(default_factory=dict)
    recent_failures: list[LogLine] = field(default_factory=list)
    last_from_domain: dict[str, Tai64n | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "deliveries": self.deliveries,
            "recent_failures": [f.to_json() for f in self.recent_failures],
            "senders": {d: (t.utc.isoformat() if t else None) for d, t in sorted(self.last_from_domain.items())},
        }


def read_qmail(host: Host, directory: str = QMAIL_LOG_DIR) -> QmailSummary:
    out = QmailSummary()
    for path in log_files(host, directory):
        out.files.append(path)
        for chunk in line_chunks(host_blocks(host, path)):
            for match in _QMAIL.finditer(chunk):
                start = chunk.rfind(b"\n", 0, match.start()) + 1
                stamp, _ = split_line(chunk[start : match.end()])
                if match.group(2) is not None:
                    sender = match.group(2)
                    if b"@" in sender:
                        domain = sender.rsplit(b"@", 1)[1].decode("utf-8", "replace").lower()
                        out.last_from_domain[domain] = stamp
                    continue
                outcome = match.group(3).decode()
                out.deliveries[outcome] = out.deliveries.get(outcome, 0) + 1
                if outcome != "success":
                    text = chunk[match.start() : match.end()].decode("utf-8", "replace")
                    out.recent_failures.append(LogLine(stamp, "", text, path))
                    del out.recent_failures[:-20]
    return out


# ---------------------------------------------------------------- live tail
class LogTail:
    """New complete lines of a growing multilog `current`, by polling (call `poll()` from a
    worker). Starts at the end of the file; follows a rotation (file shrank or was replaced)
    by starting again at the top of the new `current`."""

    def __init__(self, host: Host, path: str = QPSMTPD_CURRENT) -> None:
        self.host = host
        self.path = path
        self._real = getattr(host, "real", None)
        self.offset = self._size()
        self._inode = self._identity()
        self._carry = b""

    def _size(self) -> int:
        st = self.host.stat(self.path)
        return st.size if st is not None else 0

    def _identity(self) -> int | None:
        if callable(self._real):
            try:
                return os.stat(self._real(self.path)).st_ino
            except OSError:
                return None
        return None

    def poll(self) -> list[tuple[Tai64n | None, str]]:
        size = self._size()
        ident = self._identity()
        if size < self.offset or ident != self._inode:
            self.offset, self._inode, self._carry = 0, ident, b""
        if size == self.offset:
            return []
        data = self._read_from(self.offset, size)
        self.offset += len(data)
        data = self._carry + data
        cut = data.rfind(b"\n") + 1
        self._carry = data[cut:]
        lines = []
        for raw in data[:cut].splitlines():
            stamp, text = split_line(raw)
            lines.append((stamp, text.decode("utf-8", "replace")))
        return lines

    def _read_from(self, offset: int, size: int) -> bytes:
        if callable(self._real):
            with open(self._real(self.path), "rb") as fh:
                fh.seek(offset)
                return fh.read(size - offset)
        return _remote_tail(self.host, self.path, f"+{offset + 1}")[: size - offset]


def stamp_text(stamp: Tai64n | None) -> str:
    return stamp.utc.strftime("%Y-%m-%d %H:%M:%S UTC") if stamp else "time unknown"


def decode_label(label: str) -> Tai64n | None:
    try:
        return decode(label)
    except BadLabel:
        return None
