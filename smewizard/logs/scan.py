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

Speed: blocks are scanned in place (no copy; only a line cut by a block boundary is joined) and
nothing holds more than one block. The loop over a block has two twins that give identical results
(tests/logs/test_scan_compiled.py): `_scan.c`, compiled at install when a C compiler is there, and
`_feed_python`, one `re` pass whose literal prefix ") " and trie of alternatives reject ordinary
lines in C, with Python touching only matched lines. bench/bench_logs.py on a 1 GB log: the
compiled loop runs at about grep -c's speed, the Python one at about a fifth of it (CPython's `re`
pass alone costs 2.5 times grep). SMEWIZARD_PURE_PYTHON=1 forces the Python loop.
"""

from __future__ import annotations

import os
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from smewizard.logs.tai64n import BadLabel, Tai64n, decode


def require_compiled():
    """The compiled loop (smewizard/logs/_scan.c); RuntimeError when it was not built."""
    try:
        from smewizard.logs import _scan
    except ImportError as exc:
        raise RuntimeError("smewizard.logs._scan is not built (no C compiler or Python headers at "
                           "install)") from exc
    return _scan


def _load_compiled():
    """The compiled loop unless it was not built or SMEWIZARD_PURE_PYTHON is set (to compare, or
    to rule it out)."""
    if os.environ.get("SMEWIZARD_PURE_PYTHON"):
        return None
    try:
        return require_compiled()
    except RuntimeError:
        return None


_compiled = _load_compiled()
COMPILED = _compiled is not None  # which loop scans by default (bench/bench_logs.py prints it)

QPSMTPD_LOG_DIR = "/var/log/qpsmtpd"
QMAIL_LOG_DIR = "/var/log/qmail"
CHUNK_SIZE = 8 << 20
ROTATED_RE = re.compile(r"@[0-9a-f]{24}\.[su]")
KEEP_RECENT = 20  # examples kept per verdict kind

# One pattern, literal prefix ") " (the end of "(hook)"), then a trie: every alternative of the
# inner group starts with its own literal, so `re` rejects the ordinary ") helo: …" at the first
# byte instead of trying twenty alternatives (that was 2/3 of the time). Each outcome ends in its
# own group, so `lastindex` tells the loop what it found without building anything.
_INTERESTING = re.compile(
    rb"\) (?:"
    rb"dkim: (?:pass, we signed the message()|skip, DKIM not configured for ([^\n]*)"
    rb"|info, using ([^\n]*)|error, ([^\n]*))"
    rb"|spamassassin: (?:pass()|([^\n]*))"
    rb"|logging::logterse: ([^\n]*)"
    rb"|virus::\w+: (?:pass()|([^\n]*))"
    rb"|c(?:lam(?:av|dscan): (?:pass()|([^\n]*))|heck_badmailfrom(?:to)?: (?=fail)([^\n]*))"
    rb"|badmailfrom(?:to)?: (?=fail)([^\n]*)"
    rb")"
)
_SIGNED, _SKIP, _INFO, _ERROR, _SA_PASS, _SA, _LOGTERSE = 1, 2, 3, 4, 5, 6, 7
_SIGNED_LENGTH = len(b") dkim: pass, we signed the message")
_VIRUS_PASS, _VIRUS, _CLAM_PASS, _CLAM, _CHECK_BADMAILFROM, _BADMAILFROM = 8, 9, 10, 11, 12, 13
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


def _verdict(message: bytes) -> str:
    """verdict_word, without its splitting and decoding for the usual `pass, …` / `fail, …`."""
    if message[:6] == b"pass, ":
        return "pass"
    if message[:6] == b"fail, " and message[6:7] not in b" \t\n\r\x0b\x0c":
        return "tolerated" if message[6:15].lower() == b"tolerated" else "fail"
    return verdict_word(message)


def _sender_domain(sender: bytes) -> bytes | bool:
    """`<user@Example.COM>` -> b"example.com"; False when there is no "@" (not attributable)."""
    at = sender.rfind(b"@")
    return sender[at + 1 :].rstrip(b">").lower() if at >= 0 else False


_HEAD_WINDOW = 100  # bytes before a marker that hold the line's label, PID and hook in practice


def _after_label(line: bytes) -> bytes:
    """The line from its PID on, when it has no well-formed 25-byte label."""
    return line[line.find(b" ") + 1 :] if line[:1] == b"@" else line


def _pid_slow(chunk: bytes, start: int) -> bytes:
    """The PID of the line starting at `start`, when it is not followed by a space on its line."""
    at = start + 26 if chunk[start + 25 : start + 26] == b" " else _pid_at(chunk, start)
    return chunk[at : chunk.find(b" ", at)]


def _pid_at(chunk: bytes, start: int) -> int:
    """Where the PID starts in a line whose label is not a well-formed 25-byte label."""
    if chunk[start : start + 1] == b"@":
        return chunk.find(b" ", start) + 1
    return start


_STAMP_SEARCH_LINES = 64  # lines looked at from either end of a span for a first/last time


def _label_at(chunk: bytes, start: int) -> Tai64n | None:
    if chunk[start : start + 1] != b"@":
        return None
    try:
        return decode(chunk[start : start + 25])
    except BadLabel:
        return None


def _first_stamp(chunk: bytes, lo: int, hi: int) -> Tai64n | None:
    start = lo
    for _ in range(_STAMP_SEARCH_LINES):
        if start >= hi:
            return None
        if (stamp := _label_at(chunk, start)) is not None:
            return stamp
        start = chunk.find(b"\n", start, hi) + 1
        if start == 0:
            return None
    return None


def _last_stamp(chunk: bytes, lo: int, hi: int) -> Tai64n | None:
    end = hi
    for _ in range(_STAMP_SEARCH_LINES):
        if end <= lo:
            return None
        start = max(chunk.rfind(b"\n", lo, end - 1) + 1, lo)
        if (stamp := _label_at(chunk, start)) is not None:
            return stamp
        end = start
    return None


class _Scanner:
    """Consumes line-complete stretches `chunk[lo:hi]` (bytes or mmap); keeps PID state across them.

    Signed lines wait in `pending` (PID → raw line) until their transaction's summary line
    names the sender; per domain only the raw last line is kept and decoded at the end."""

    def __init__(self, summary: LogSummary, compiled: bool | None = None) -> None:
        self.s = summary
        self.compiled = _compiled if compiled is None else (require_compiled() if compiled else None)
        self.pending: dict[bytes, bytes] = {}
        self.key_domain: dict[bytes, bytes] = {}  # PID -> zone from "info, using <zone> key"
        self.last_signed: dict[bytes, tuple[bytes, str]] = {}  # domain -> (raw line, file)
        self.signed_count: Counter = Counter()
        self.source = ""
        self.logterse_seen = False
        self.mail_from: dict[bytes, bytes] = {}
        self.rejected_pids: dict[bytes, None] = {}
        self.sender_domains: dict[bytes, bytes | bool] = {}  # logterse sender field -> _sender_domain
        # Lines that may be reported are kept raw (head, text, file) and decoded once, in finish():
        # most of them are superseded by a later one before the scan ends.
        self.sa_recent: deque[tuple[bytes, bytes, str]] = deque(maxlen=KEEP_RECENT)
        self.skip_count: Counter = Counter()  # raw domain text of "DKIM not configured for …"
        self.skip_last: dict[bytes, tuple[bytes, bytes, str]] = {}  # same keys, latest last

    def feed(self, chunk: bytes, lo: int = 0, hi: int | None = None) -> None:
        """Scan `chunk[lo:hi]`, which starts at a line start and ends after a newline."""
        if hi is None:
            hi = len(chunk)
        if self.compiled is not None and type(chunk) is bytes:
            sa_pass, av_pass, unattributed, logterse = self.compiled.feed(
                chunk, lo, hi, lo - 1 if lo else 0, self.pending, self.key_domain, self.last_signed,
                self.signed_count, self.sender_domains, self.source, self._rare, self._badmailfrom_summary)
        else:
            sa_pass, av_pass, unattributed, logterse = self._feed_python(chunk, lo, hi)
        if sa_pass:
            self.s.spamassassin.counts["pass"] += sa_pass
        if av_pass:
            self.s.clamav.counts["pass"] += av_pass
        self.s.unattributed_signed += unattributed
        self.logterse_seen = self.logterse_seen or logterse
        if self.pending and not self.logterse_seen:
            self._attribute_by_mail_from(chunk, lo, hi)
        if len(self.pending) > 50_000:  # PIDs that never logged a summary line
            for pid in list(self.pending)[:25_000]:
                del self.pending[pid]
                self.s.unattributed_signed += 1
        self._note_span(chunk, lo, hi)

    def _feed_python(self, chunk: bytes, lo: int, hi: int) -> tuple[int, int, int, bool]:
        """The scan loop in Python (the compiled `_scan.feed` is its twin): one C-level regex
        pass; Python only touches lines the regex matched, and of the frequent ones (signed,
        logterse, SpamAssassin/ClamAV pass) only as far as needed.
        Returns (SpamAssassin passes, antivirus passes, unattributed signed, logterse seen)."""
        rfind = chunk.rfind
        base = lo - 1 if lo else 0  # rfind(b"\n", base, p) always finds the start of p's line
        pending, key_domain = self.pending, self.key_domain
        last_signed, signed_count, source = self.last_signed, self.signed_count, self.source
        sender_domains = self.sender_domains
        logterse = False
        sa_pass = av_pass = unattributed = 0
        for match in _INTERESTING.finditer(chunk, lo, hi):
            kind = match.lastindex
            if kind == _LOGTERSE:
                logterse = True
                rest = match.group(_LOGTERSE)
                badmailfrom = b"badmailfrom" in rest
                if not pending and not badmailfrom:
                    continue  # nothing waits for this transaction's sender
                at = match.start()
                # the line's head ("@label PID (hook"): from a small window when it holds the line start
                head = chunk[at - _HEAD_WINDOW : at] if at - _HEAD_WINDOW > base else b""
                cut = head.rfind(b"\n") + 1
                head = head[cut:] if cut else chunk[rfind(b"\n", base, at) + 1 : at]
                pid, space, _ = (head[26:] if head[25:26] == b" " else _after_label(head)).partition(b" ")
                if not space:
                    pid = _pid_slow(chunk, at - len(head))
                signed = pending.pop(pid, None)
                if signed is not None:
                    fields = rest.split(b"\t", 4)
                    sender = fields[3] if len(fields) > 4 else b""
                    domain = sender_domains.get(sender)
                    if domain is None:
                        domain = _sender_domain(sender)
                        if len(sender_domains) < 100_000:
                            sender_domains[sender] = domain
                    if domain is False:
                        unattributed += 1
                    else:
                        last_signed[domain] = (signed, source)
                        signed_count[domain] += 1
                if badmailfrom:
                    self._badmailfrom_summary(head, rest)
            elif kind == _SIGNED:
                at = match.start()
                line = chunk[at - _HEAD_WINDOW : at + _SIGNED_LENGTH] if at - _HEAD_WINDOW > base else b""
                cut = line.rfind(b"\n") + 1
                line = line[cut:] if cut else chunk[rfind(b"\n", base, at) + 1 : at + _SIGNED_LENGTH]
                # the marker has spaces after any PID start, so partition always finds one
                pid = (line[26:] if line[25:26] == b" " else _after_label(line)).partition(b" ")[0]
                if key_domain and (zone := key_domain.pop(pid, None)):
                    last_signed[zone] = (line, source)
                    signed_count[zone] += 1
                else:
                    pending[pid] = line
            elif kind == _SA_PASS:
                sa_pass += 1
            elif kind == _VIRUS_PASS or kind == _CLAM_PASS:
                av_pass += 1
            else:
                start = rfind(b"\n", base, match.start()) + 1
                self._rare(kind, chunk[start : match.start()], chunk[match.start() + 2 : match.end()],
                           match.group(kind))
        return sa_pass, av_pass, unattributed, logterse

    def _rare(self, kind: int, head: bytes, text: bytes, rest: bytes) -> None:
        self._handlers[kind](self, head, text, rest)

    def _attribute_by_mail_from(self, chunk: bytes, lo: int, hi: int) -> None:
        """No summary lines in this log: the sender is the PID's latest MAIL FROM."""
        senders: dict[bytes, bytes] = {}
        base = lo - 1 if lo else 0
        for match in _DISPATCH_FROM.finditer(chunk, lo, hi):
            start = chunk.rfind(b"\n", base, match.start()) + 1
            at = start + 26 if chunk[start + 25 : start + 26] == b" " else _pid_at(chunk, start)
            senders[chunk[at : match.start()]] = match.group(1).lower()
        self.mail_from.update(senders)
        for pid in [p for p in self.pending if p in self.mail_from]:
            self._signed(self.mail_from[pid], self.pending.pop(pid))

    def _signed(self, domain: bytes, line: bytes) -> None:
        self.last_signed[domain] = (line, self.source)
        self.signed_count[domain] += 1

    def _note_span(self, chunk: bytes, lo: int, hi: int) -> None:
        """The log's first and last times: the first and last lines with a good label (a blank
        or garbled line at either end is skipped; only a few lines are looked at)."""
        if self.s.first is None:
            self.s.first = _first_stamp(chunk, lo, hi)
        self.s.last = _last_stamp(chunk, lo, hi) or self.s.last

    def _stamp(self, label: bytes) -> Tai64n | None:
        try:
            return decode(label)
        except BadLabel:
            self.s.bad_labels += 1
            return None

    def _line(self, head: bytes, text: bytes, source: str | None = None) -> tuple[bytes, LogLine]:
        """(PID, LogLine) of a line: `head` is the line up to ") ", `text` the plugin's message."""
        when = self._stamp(head[:25]) if head[:1] == b"@" else None
        body = head[head.find(b" ") + 1 :] if head[:1] == b"@" else head
        pid = body.split(b" ", 1)[0]
        text_str = text.decode("utf-8", "replace")
        return pid, LogLine(when, pid.decode("ascii", "replace"), text_str, self.source if source is None else source)

    def _domain(self, name: str) -> DomainLog:
        key = name.lower().rstrip(".")
        found = self.s.domains.get(key)
        if found is None:
            found = self.s.domains[key] = DomainLog()
        return found

    # ---------------------------------------------------------------- rarer lines
    def _dkim_skip(self, head: bytes, text: bytes, rest: bytes) -> None:
        self.skip_count[rest] += 1
        self.skip_last.pop(rest, None)
        self.skip_last[rest] = (head, text, self.source)

    def _dkim_info(self, head: bytes, text: bytes, rest: bytes) -> None:
        pid, _ = self._line(head, text)
        found = _USING_KEY.match(rest)
        if found:
            self.key_domain[pid] = found.group(1).lower()

    def _dkim_error(self, head: bytes, text: bytes, rest: bytes) -> None:
        """"error, unable to read key from config/dkim/<domain>" or ".../<domain>/private"."""
        _, line = self._line(head, text)
        parts = [p for p in rest.strip().split(b"/") if p]
        if len(parts) >= 2:
            name = parts[-2] if parts[-1] == b"private" else parts[-1]
            entry = self._domain(name.decode("utf-8", "replace"))
            entry.errors += 1
            entry.last_error = line

    def _spamassassin(self, head: bytes, text: bytes, rest: bytes) -> None:
        word = _verdict(rest)
        self.s.spamassassin.counts[word] += 1
        if word in ("fail", "tolerated"):
            self.sa_recent.append((head, text, self.source))

    def _virus(self, head: bytes, text: bytes, rest: bytes) -> None:
        word = verdict_word(rest)
        found = word == "fail" or b"found" in rest.lower()
        _, line = self._line(head, text)
        self.s.clamav.add("fail" if found else word, line, keep=found)

    def _badmailfrom(self, head: bytes, text: bytes, rest: bytes) -> None:
        if verdict_word(rest) != "fail" and b"badmailfrom list" not in rest:
            return
        pid, line = self._line(head, text)
        self.rejected_pids[pid] = None
        self.s.badmailfrom.add("rejected", line, keep=True)

    def _badmailfrom_summary(self, head: bytes, rest: bytes) -> None:
        """logterse names the plugin that denied; count it unless the plugin's own line did."""
        pid, line = self._line(head, b"logging::logterse: " + rest)
        if self.rejected_pids.pop(pid, False) is None:
            return
        self.s.badmailfrom.add("rejected", line, keep=True)

    _handlers: dict[int, Callable] = {}

    def finish(self) -> None:
        self.s.unattributed_signed += len(self.pending)
        self.pending.clear()
        for rest, (head, text, source) in self.skip_last.items():  # oldest first: latest wins
            entry = self._domain(rest.strip().decode("utf-8", "replace"))
            entry.skipped += self.skip_count[rest]
            entry.last_skip = self._line(head, text, source)[1]
        recent = self.s.spamassassin.recent
        recent.extend(self._line(head, text, source)[1] for head, text, source in self.sa_recent)
        del recent[:-KEEP_RECENT]
        for domain, (raw, source) in self.last_signed.items():
            label = raw[:25] if raw[:1] == b"@" else b""
            when = self._stamp(label) if label else None
            body = raw[raw.find(b" ") + 1 :] if label else raw
            pid = body.split(b" ", 1)[0].decode("ascii", "replace")
            entry = self._domain(domain.decode("utf-8", "replace"))
            entry.signed = self.signed_count[domain]
            entry.last_signed = LogLine(when, pid, "dkim: pass, we signed the message", source)


_Scanner._handlers = {
    _SKIP: _Scanner._dkim_skip,
    _INFO: _Scanner._dkim_info,
    _ERROR: _Scanner._dkim_error,
    _SA: _Scanner._spamassassin,
    _VIRUS: _Scanner._virus,
    _CLAM: _Scanner._virus,
    _CHECK_BADMAILFROM: _Scanner._badmailfrom,
    _BADMAILFROM: _Scanner._badmailfrom,
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


def line_spans(blocks: Iterable[bytes]) -> Iterator[tuple[bytes, int, int]]:
    """Like line_chunks, as (block, lo, hi) spans of line-complete text: the bulk of each block is
    scanned in place (no copy); only a line cut by a block boundary is joined."""
    carry = b""
    for block in blocks:
        first = block.find(b"\n") + 1
        if first == 0:
            carry += block[:]
            continue
        lo = 0
        if carry:
            joined = carry + block[:first]
            yield joined, 0, len(joined)
            lo = first
        hi = block.rfind(b"\n") + 1
        if hi > lo:
            yield block, lo, hi
        carry = block[hi:]
    if carry:
        joined = carry + b"\n"
        yield joined, 0, len(joined)


def _counted(blocks: Iterable[bytes], summary: LogSummary) -> Iterator[bytes]:
    """The blocks, their sizes added to bytes_read (the file's size: line_spans ends a last
    line that has no newline with one of its own, which is not the file's)."""
    for block in blocks:
        summary.bytes_read += len(block)
        yield block


def scan_chunks(sources: Iterable[tuple[str, Iterable[bytes]]], compiled: bool | None = None) -> LogSummary:
    """Scan (name, blocks) sources in order (oldest file first). `compiled`: None = the compiled
    loop when it is built, True = require it, False = the pure-Python loop."""
    summary = LogSummary()
    scanner = _Scanner(summary, compiled)
    for name, blocks in sources:
        summary.files.append(name)
        scanner.source = name
        for chunk, lo, hi in line_spans(_counted(blocks, summary)):
            scanner.feed(chunk, lo, hi)
    scanner.finish()
    return summary


def file_blocks(path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """A local file's bytes in blocks of chunk_size. (Memory-mapping instead saved ~2% and risks
    SIGBUS if someone truncates the file under us.)"""
    with open(path, "rb", buffering=0) as fh:
        while block := fh.read(chunk_size):
            yield block


def scan_files(paths: Iterable[str], chunk_size: int = CHUNK_SIZE, compiled: bool | None = None) -> LogSummary:
    """Scan local files (oldest first), streaming."""
    return scan_chunks(((p, file_blocks(p, chunk_size)) for p in paths), compiled)
