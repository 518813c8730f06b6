"""Scan qpsmtpd's multilog log for what the wizard verifies (guide Parts 2, 6, 7, 10).

Lines look like `@<tai64n> <pid> (<hook>) <plugin>: <message>`. What we keep, per hosted domain:
the last `dkim: pass, we signed the message` (qpsmtpd 0.94 logs it in hook `data_post`, SME's
0.96 in `data_post_headers`: the hook is not matched), the last `dkim: skip, DKIM not configured
for <domain>`, dkim errors; server-wide: SpamAssassin and ClamAV verdicts and badmailfrom
rejections.

The dkim plugin does not name the domain when it signs. The signing domain is the envelope
sender's domain (plugins/dkim `get_keydir`), which we learn from lines of the same PID: the
plugin's own `info, using <zone> key for …` (parent-domain key) or, failing that, the
`logging::logterse` summary of the transaction, whose fourth field is `<user@domain>`.

Speed: the file is read in big chunks and searched with one regular expression whose literal
prefix lets `re` skip uninteresting text in C; only matching lines are decoded. Nothing holds
more than one chunk (see bench/bench_logs.py for the figures against grep).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from smewizard.logs.tai64n import BadLabel, Tai64n, decode

QPSMTPD_LOG_DIR = "/var/log/qpsmtpd"
QMAIL_LOG_DIR = "/var/log/qmail"
CHUNK_SIZE = 8 << 20
ROTATED_RE = re.compile(r"@[0-9a-f]{24}\.[su]")
KEEP_RECENT = 20  # examples kept per verdict kind

# One pattern, literal prefix ") " (the end of "(hook)"). The frequent outcomes have their own
# groups, so the loop tells them apart by `lastindex` and counts them without building anything.
_INTERESTING = re.compile(
    rb"\) (?:(dkim: pass, we signed the message)|(spamassassin: pass)"
    rb"|(virus::\w+: pass|clamav: pass|clamdscan: pass)|(logging::logterse: )([^\n]*)"
    rb"|(dkim: skip, DKIM not configured for |dkim: info, using |dkim: error, |spamassassin: "
    rb"|virus::\w+: |clamav: |clamdscan: |(?:check_)?badmailfrom(?:to)?: (?=fail))([^\n]*))"
)
_SIGNED, _SA_PASS, _AV_PASS, _LOGTERSE, _OTHER = 1, 2, 3, 5, 7
# Without logterse (plain qpsmtpd), forkserver logs the envelope at loglevel 6 (LOGINFO,
# Qpsmtpd::TcpServer): "<pid> dispatching MAIL FROM:<user@domain>".
_DISPATCH_FROM = re.compile(rb" dispatching MAIL FROM:\s*<[^>@\n]*@([^>\s]+)>", re.IGNORECASE)
_USING_KEY = re.compile(rb"(\S+) key for")
_LOGTERSE_SENDER = re.compile(rb"`?\s*[^\t]*\t[^\t]*\t[^\t]*\t<([^>\t]*)>\t[^\t]*\t([^\t]*)\t(\d*)")


@dataclass(frozen=True)
class LogLine:
    """One interesting line: when (None if the label was bad), PID, message text, file."""

    when: Tai64n | None
    pid: str
    text: str
    source: str

    def to_json(self) -> dict[str, object]:
        return {
            "time": self.when.utc.isoformat() if self.when else None,
            "pid": self.pid,
            "text": self.text,
            "file": self.source,
        }


@dataclass
class DomainLog:
    """What the log says about one sender domain's outbound signing."""

    last_signed: LogLine | None = None
    signed: int = 0
    last_skip: LogLine | None = None
    skipped: int = 0
    last_error: LogLine | None = None
    errors: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "signed": self.signed,
            "last_signed": self.last_signed.to_json() if self.last_signed else None,
            "skipped": self.skipped,
            "last_skip": self.last_skip.to_json() if self.last_skip else None,
            "errors": self.errors,
            "last_error": self.last_error.to_json() if self.last_error else None,
        }


@dataclass
class Verdicts:
    """Counts of one plugin's outcomes ("pass", "fail", "tolerated", …) and the latest lines."""

    counts: Counter = field(default_factory=Counter)
    recent: list[LogLine] = field(default_factory=list)

    def add(self, outcome: str, line: LogLine, keep: bool) -> None:
        self.counts[outcome] += 1
        if keep:
            self.recent.append(line)
            del self.recent[:-KEEP_RECENT]

    def to_json(self) -> dict[str, object]:
        return {"counts": dict(self.counts), "recent": [r.to_json() for r in self.recent]}


@dataclass
class LogSummary:
    """Everything scan_qpsmtpd found, over all files read (oldest first)."""

    files: list[str] = field(default_factory=list)
    bytes_read: int = 0
    first: Tai64n | None = None
    last: Tai64n | None = None
    domains: dict[str, DomainLog] = field(default_factory=dict)
    unattributed_signed: int = 0  # signed, but no line said for which domain
    spamassassin: Verdicts = field(default_factory=Verdicts)
    clamav: Verdicts = field(default_factory=Verdicts)
    badmailfrom: Verdicts = field(default_factory=Verdicts)
    bad_labels: int = 0

    def domain(self, name: str) -> DomainLog:
        return self.domains.get(name.lower()) or DomainLog()

    def to_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "bytes": self.bytes_read,
            "first": self.first.utc.isoformat() if self.first else None,
            "last": self.last.utc.isoformat() if self.last else None,
            "domains": {d: v.to_json() for d, v in sorted(self.domains.items())},
            "unattributed_signed": self.unattributed_signed,
            "spamassassin": self.spamassassin.to_json(),
            "clamav": self.clamav.to_json(),
            "badmailfrom": self.badmailfrom.to_json(),
        }


def verdict_word(message: bytes) -> str:
    """`pass, Ham, …` → "pass"; `fail, tolerated, …` → "tolerated"; `fail, found virus X` → "fail"."""
    head = message.split(b",", 2)
    word = head[0].strip().decode("ascii", "replace").lower()
    if word == "fail" and len(head) > 1 and head[1].strip().lower().startswith(b"tolerated"):
        return "tolerated"
    return word or "other"


def _pid_at(chunk: bytes, start: int) -> int:
    """Where the PID starts in a line whose label is not a well-formed 25-byte label."""
    if chunk[start : start + 1] == b"@":
        return chunk.find(b" ", start) + 1
    return start


class _Scanner:
    """Consumes chunks that end at a line boundary; keeps PID state across chunks.

    Signed lines wait in `pending` (PID → raw line) until their transaction's summary line
    names the sender; per domain only the raw last line is kept and decoded at the end."""

    def __init__(self, summary: LogSummary) -> None:
        self.s = summary
        self.pending: dict[bytes, bytes] = {}
        self.key_domain: dict[bytes, bytes] = {}  # PID -> zone from "info, using <zone> key"
        self.last_signed: dict[bytes, tuple[bytes, str]] = {}  # domain -> (raw line, file)
        self.signed_count: Counter = Counter()
        self.source = ""
        self.logterse_seen = False
        self.mail_from = {}

    def feed(self, chunk: bytes) -> None:
        rfind, find = chunk.rfind, chunk.find
        pending = self.pending
        sa_pass = av_pass = 0
        for match in _INTERESTING.finditer(chunk):
            kind = match.lastindex
            if kind == _SA_PASS:
                sa_pass += 1
            elif kind == _AV_PASS:
                av_pass += 1
            elif kind == _SIGNED:
                start = rfind(b"\n", 0, match.start()) + 1
                at = start + 26 if chunk[start + 25 : start + 26] == b" " else _pid_at(chunk, start)
                pid = chunk[at : find(b" ", at)]
                line = chunk[start : match.end()]
                zone = self.key_domain.pop(pid, None) if self.key_domain else None
                if zone:
                    self._signed(zone, line)
                else:
                    pending[pid] = line
            elif kind == _LOGTERSE:
                self.logterse_seen = True
                start = rfind(b"\n", 0, match.start()) + 1
                at = start + 26 if chunk[start + 25 : start + 26] == b" " else _pid_at(chunk, start)
                pid = chunk[at : find(b" ", at)]
                signed = pending.pop(pid, None)
                rest = match.group(5)
                if signed is not None:
                    fields = rest.split(b"\t", 4)
                    sender = fields[3] if len(fields) > 4 else b""
                    at = sender.rfind(b"@")
                    if at >= 0:
                        self._signed(sender[at + 1 :].rstrip(b">").lower(), signed)
                    else:
                        self.s.unattributed_signed += 1
                if b"badmailfrom" in rest:
                    self._badmailfrom_summary(chunk[start : match.start()], match.group(4), rest)
            else:
                start = rfind(b"\n", 0, match.start()) + 1
                marker = match.group(6)
                self._handlers[marker[:4]](self, chunk[start : match.start()], marker, match.group(7))
        if sa_pass:
            self.s.spamassassin.counts["pass"] += sa_pass
        if av_pass:
            self.s.clamav.counts["pass"] += av_pass
        if pending and not self.logterse_seen:
            self._attribute_by_mail_from(chunk)
        if len(pending) > 50_000:  # PIDs that never logged a summary line
            for pid in list(pending)[:25_000]:
                del pending[pid]
                self.s.unattributed_signed += 1
        self._note_span(chunk)

    def _attribute_by_mail_from(self, chunk: bytes) -> None:
        """No summary lines in this log: the sender is the PID's latest MAIL FROM."""
        senders: dict[bytes, bytes] = {}
        for match in _DISPATCH_FROM.finditer(chunk):
            start = chunk.rfind(b"\n", 0, match.start()) + 1
            at = start + 26 if chunk[start + 25 : start + 26] == b" " else _pid_at(chunk, start)
            senders[chunk[at : match.start()]] = match.group(1).lower()
        self.mail_from.update(senders)
        for pid in [p for p in self.pending if p in self.mail_from]:
            self._signed(self.mail_from[pid], self.pending.pop(pid))

    mail_from: dict[bytes, bytes]

    def _signed(self, domain: bytes, line: bytes) -> None:
        self.last_signed[domain] = (line, self.source)
        self.signed_count[domain] += 1

    def _note_span(self, chunk: bytes) -> None:
        if self.s.first is None and chunk[:1] == b"@":
            self.s.first = self._stamp(chunk[:25])
        end = chunk.rfind(b"\n", 0, len(chunk) - 1) + 1
        if chunk[end : end + 1] == b"@":
            self.s.last = self._stamp(chunk[end : end + 25]) or self.s.last

    def _stamp(self, label: bytes) -> Tai64n | None:
        try:
            return decode(label)
        except BadLabel:
            self.s.bad_labels += 1
            return None

    def _line(self, head: bytes, marker: bytes, rest: bytes, source: str | None = None) -> tuple[bytes, LogLine]:
        when = self._stamp(head[:25]) if head[:1] == b"@" else None
        body = head[head.find(b" ") + 1 :] if head[:1] == b"@" else head
        pid = body.split(b" ", 1)[0]
        text = (marker + rest).decode("utf-8", "replace")
        return pid, LogLine(when, pid.decode("ascii", "replace"), text, source or self.source)

    def _domain(self, name: str) -> DomainLog:
        key = name.lower().rstrip(".")
        found = self.s.domains.get(key)
        if found is None:
            found = self.s.domains[key] = DomainLog()
        return found

    # ---------------------------------------------------------------- rarer lines
    def _dkim(self, head: bytes, marker: bytes, rest: bytes) -> None:
        pid, line = self._line(head, marker, rest)
        if marker.startswith(b"dkim: skip"):
            entry = self._domain(rest.strip().decode("utf-8", "replace"))
            entry.skipped += 1
            entry.last_skip = line
        elif marker.startswith(b"dkim: info"):
            found = _USING_KEY.match(rest)
            if found:
                self.key_domain[pid] = found.group(1).lower()
        else:  # "error, unable to read key from config/dkim/<domain>" or ".../<domain>/private"
            parts = [p for p in rest.strip().split(b"/") if p]
            if len(parts) >= 2:
                name = parts[-2] if parts[-1] == b"private" else parts[-1]
                entry = self._domain(name.decode("utf-8", "replace"))
                entry.errors += 1
                entry.last_error = line

    def _spamassassin(self, head: bytes, marker: bytes, rest: bytes) -> None:
        word = verdict_word(rest)
        _, line = self._line(head, marker, rest)
        self.s.spamassassin.add(word, line, keep=word in ("fail", "tolerated"))

    def _virus(self, head: bytes, marker: bytes, rest: bytes) -> None:
        word = verdict_word(rest)
        found = word == "fail" or b"found" in rest.lower()
        _, line = self._line(head, marker, rest)
        self.s.clamav.add("fail" if found else word, line, keep=found)

    def _badmailfrom(self, head: bytes, marker: bytes, rest: bytes) -> None:
        if verdict_word(rest) != "fail" and b"badmailfrom list" not in rest:
            return
        pid, line = self._line(head, marker, rest)
        self.rejected_pids[pid] = None
        self.s.badmailfrom.add("rejected", line, keep=True)

    def _badmailfrom_summary(self, head: bytes, marker: bytes, rest: bytes) -> None:
        """logterse names the plugin that denied; count it unless the plugin's own line did."""
        pid, line = self._line(head, marker, rest)
        if self.rejected_pids.pop(pid, False) is None:
            return
        self.s.badmailfrom.add("rejected", line, keep=True)

    rejected_pids: dict[bytes, None] = {}
    _handlers: dict[bytes, Callable] = {}

    def finish(self) -> None:
        self.s.unattributed_signed += len(self.pending)
        self.pending.clear()
        for domain, (raw, source) in self.last_signed.items():
            label = raw[:25] if raw[:1] == b"@" else b""
            when = self._stamp(label) if label else None
            body = raw[raw.find(b" ") + 1 :] if label else raw
            pid = body.split(b" ", 1)[0].decode("ascii", "replace")
            entry = self._domain(domain.decode("utf-8", "replace"))
            entry.signed = self.signed_count[domain]
            entry.last_signed = LogLine(when, pid, "dkim: pass, we signed the message", source)


_Scanner._handlers = {
    b"dkim": _Scanner._dkim,
    b"spam": _Scanner._spamassassin,
    b"viru": _Scanner._virus,
    b"clam": _Scanner._virus,
    b"badm": _Scanner._badmailfrom,
    b"chec": _Scanner._badmailfrom,
}


def line_chunks(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut arbitrary blocks so each yielded chunk ends with a complete line."""
    carry = b""
    for block in blocks:
        if not block:
            continue
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut]
    if carry:
        yield carry + b"\n"


def scan_chunks(sources: Iterable[tuple[str, Iterable[bytes]]]) -> LogSummary:
    """Scan (name, blocks) sources in order (oldest file first)."""
    summary = LogSummary()
    scanner = _Scanner(summary)
    scanner.rejected_pids = {}
    for name, blocks in sources:
        summary.files.append(name)
        scanner.source = name
        for chunk in line_chunks(blocks):
            summary.bytes_read += len(chunk)
            scanner.feed(chunk)
    scanner.finish()
    return summary


def scan_files(paths: Iterable[str], chunk_size: int = CHUNK_SIZE) -> LogSummary:
    """Scan local files (oldest first), streaming."""

    def blocks(path: str) -> Iterator[bytes]:
        with open(path, "rb", buffering=0) as fh:
            while block := fh.read(chunk_size):
                yield block

    return scan_chunks((p, blocks(p)) for p in paths)
