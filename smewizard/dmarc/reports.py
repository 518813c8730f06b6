"""Safe ingestion of DMARC aggregate reports (RFC 7489 appendix C, RFC 9990).

Reports arrive from strangers, so every input is hostile until parsed:
- XML goes through defusedxml with DTDs forbidden: no entity expansion (billion laughs), no
  external entities. Aggregate reports never need a DTD.
- The XML is parsed as a stream into a small state machine (no element tree), so memory grows
  with the number of report rows, not with the document.
- Every read is capped: the stored file or message (`max_input_bytes`), the decompressed XML
  (`max_xml_bytes`, counted while streaming, because gzip and zip headers can lie), the number
  of zip members, and each member's declared compression ratio (zip bombs).
- A broken input becomes a `SourceProblem` with a clear message; the others are still read.

Containers are recognised by their first bytes, not by file name: XML, gzip, zip, and e-mail
messages (a Maildir file) whose attachments are any of those.
"""

from __future__ import annotations

import email
import email.policy
import gc
import gzip
import io
import ipaddress
import os
import re
import socket
import stat
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError, TreeBuilder, XMLParser
from xml.parsers.expat import ExpatError, errors

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser

MiB = 1024 * 1024
_BAD_TOKEN = errors.codes[errors.XML_ERROR_INVALID_TOKEN]
_NO_ELEMENTS = errors.codes[errors.XML_ERROR_NO_ELEMENTS]


@dataclass(frozen=True)
class Limits:
    max_input_bytes: int = 16 * MiB  # one stored file or mail message
    max_xml_bytes: int = 32 * MiB  # one report after decompression
    max_zip_members: int = 20
    max_zip_ratio: int = 200  # uncompressed / compressed size of one member
    max_rows: int = 250_000  # per report
    max_maildir_messages: int = 5_000  # newest first
    max_maildir_age_days: int = 120  # older mail says nothing about the current policy stage
    mail_head_bytes: int = 16 * 1024  # enough for the Subject and Content-Type headers


DEFAULT_LIMITS = Limits()
# messages from one source IP in one report (a day, usually): far above what any SME server sends
# or a spoofer gets through one IP; a bigger count is a forged or broken row, which would else
# swamp every pass rate the DMARC ramp relies on
MAX_ROW_COUNT = 10_000_000


class ReportError(Exception):
    """One input could not be read as a report; the message says why in plain words."""


class _XmlSyntax(ReportError):
    def __init__(self, message: str, bad_token: bool):
        super().__init__(message)
        self.bad_token = bad_token


@dataclass(frozen=True, slots=True)
class AuthResult:
    domain: str
    result: str
    selector: str = ""  # DKIM only
    scope: str = ""  # SPF only ("mfrom", "helo")


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One <record>: `count` messages from `source_ip` with the same results.

    `dkim` and `spf` are the receiver's *DMARC-aligned* verdicts (policy_evaluated);
    `dkim_auth`/`spf_auth` are the raw authentication results, aligned or not."""

    source_ip: str
    count: int
    disposition: str
    dkim: str
    spf: str
    header_from: str
    envelope_from: str = ""
    dkim_auth: tuple[AuthResult, ...] = ()
    spf_auth: tuple[AuthResult, ...] = ()

    @property
    def dmarc_pass(self) -> bool:
        return self.dkim == "pass" or self.spf == "pass"


@dataclass(frozen=True)
class PublishedPolicy:
    domain: str
    p: str = ""
    sp: str = ""
    np: str = ""
    adkim: str = ""
    aspf: str = ""
    testing: str = ""  # "y"/"n" (RFC 9990 <testing>), "" when absent
    pct: str = ""  # RFC 7489 reporters still send it


@dataclass(frozen=True)
class AggregateReport:
    org_name: str
    report_id: str
    begin: datetime
    end: datetime
    policy: PublishedPolicy
    rows: tuple[ReportRow, ...]
    source: str  # where it came from: path, and member or attachment name
    email: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        return self.policy.domain

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity for de-duplication: the same report arrives by mail and from a file."""
        return (self.org_name.lower(), self.report_id, self.domain)

    @property
    def messages(self) -> int:
        return sum(r.count for r in self.rows)


@dataclass(frozen=True)
class SourceProblem:
    source: str
    message: str


@dataclass(frozen=True)
class Ingest:
    """What reading a set of inputs produced."""

    reports: tuple[AggregateReport, ...] = ()
    problems: tuple[SourceProblem, ...] = ()
    duplicates: int = 0
    inputs: int = 0
    skipped_messages: int = 0  # Maildir messages that were not DMARC reports


# ------------------------------------------------------------------ XML
_META = {"org_name", "email", "report_id"}
_POLICY = {"domain", "p", "sp", "np", "adkim", "aspf", "testing", "t", "pct"}


class _Names(dict):
    """Tag → local name ("{urn:…:dmarc-2.0}row" → "row"); a plain dict lookup once filled."""

    def __missing__(self, tag: str) -> str:
        name = tag[tag.rfind("}") + 1:]
        if len(self) < 1000:
            self[tag] = name
        return name


_NAMES = _Names()


def _normal_ip(text: str) -> str:
    """The address in canonical form; raises ValueError. IPv4 dotted quads take a C fast path."""
    try:
        if socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, text)) == text:
            return text
    except OSError:
        pass
    return str(ipaddress.ip_address(text))


class _ReportBuilder:
    """Collects a report from ElementTree's C tree builder: header elements once, records in
    batches (finished <record> elements are converted and deleted after every chunk, so the
    tree never holds more than one chunk's worth of records)."""

    def __init__(self, max_rows: int):
        self.max_rows = max_rows
        self.meta: dict[str, str] = {}
        self.dates: dict[str, str] = {}
        self.policy: dict[str, str] = {}
        self.rows: list[ReportRow] = []
        self.bad_rows = 0
        self.root = ""
        self.tags: dict[str, str] = {}

    def take(self, feedback, keep_last: bool) -> None:
        names = _NAMES
        if not self.tags:
            self.tags = _tags_for(feedback.tag)
        children = list(feedback)
        done = len(children) - 1 if keep_last else len(children)
        first_record = None
        for index in range(done):
            child = children[index]
            name = names[child.tag]
            if name == "record":
                if first_record is None:
                    first_record = index
                self._record(child)
            elif name == "report_metadata" and not self.meta:
                for item in child:
                    local = names[item.tag]
                    if local == "date_range":
                        self.dates.update({names[c.tag]: (c.text or "").strip() for c in item})
                    elif local in _META:
                        self.meta[local] = (item.text or "").strip()
            elif name == "policy_published" and not self.policy:
                self.policy.update({names[c.tag]: (c.text or "").strip() for c in child if names[c.tag] in _POLICY})
        if first_record is not None:
            del feedback[first_record:done]

    def _record(self, rec) -> None:
        """One <record>, through ElementTree's C find/findtext (no Python loop per element)."""
        t = self.tags
        row = rec.find(t["row"])
        if row is None:
            self.bad_rows += 1
            return
        try:
            ip = _normal_ip(row.findtext(t["source_ip"], "").strip())
            count = int(row.findtext(t["count"], ""))
            if not 0 <= count <= MAX_ROW_COUNT:
                raise ValueError
        except ValueError:
            self.bad_rows += 1
            return
        if len(self.rows) >= self.max_rows:
            raise ReportError(f"more than {self.max_rows:,} rows in one report; refused")
        evaluated = row.find(t["policy_evaluated"])
        if evaluated is None:
            evaluated = row
        ident = rec.find(t["identifiers"])
        if ident is None:
            ident = rec
        dkim_auth: list[AuthResult] = []
        spf_auth: list[AuthResult] = []
        auth = rec.find(t["auth_results"])
        if auth is not None:
            for result in auth:
                if result.tag == t["dkim"]:
                    dkim_auth.append(AuthResult(
                        result.findtext(t["domain"], "").strip().lower(),
                        result.findtext(t["result"], "").strip().lower(),
                        selector=result.findtext(t["selector"], "").strip(),
                    ))
                elif result.tag == t["spf"]:
                    spf_auth.append(AuthResult(
                        result.findtext(t["domain"], "").strip().lower(),
                        result.findtext(t["result"], "").strip().lower(),
                        scope=result.findtext(t["scope"], "").strip(),
                    ))
        self.rows.append(ReportRow(
            ip,
            count,
            evaluated.findtext(t["disposition"], "").strip().lower(),
            evaluated.findtext(t["dkim"], "").strip().lower(),
            evaluated.findtext(t["spf"], "").strip().lower(),
            ident.findtext(t["header_from"], "").strip().lower(),
            ident.findtext(t["envelope_from"], "").strip().lower(),
            tuple(dkim_auth),
            tuple(spf_auth),
        ))


_RECORD_TAGS = ("row", "source_ip", "count", "policy_evaluated", "disposition", "dkim", "spf",
                "identifiers", "header_from", "envelope_from", "auth_results", "domain", "result",
                "selector", "scope")


def _tags_for(root_tag: str) -> dict[str, str]:
    """Full tag names in the document's namespace ("{urn:…:dmarc-2.0}row", or "row")."""
    ns = root_tag[: root_tag.find("}") + 1] if root_tag.startswith("{") else ""
    return {name: ns + name for name in _RECORD_TAGS}


def _timestamp(text: str, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (ValueError, OverflowError, OSError):
        raise ReportError(f"{what} {text[:40]!r} is not a Unix time") from None


class _RootReached(Exception):
    pass


class _PrologGuard:
    """defusedxml's parser over the document up to its root element. A DTD — the only place
    entities (billion laughs) and external references (XXE) can be declared — must come before
    the root element, so once the root starts without one, the rest cannot declare any. The
    guard sees every chunk before the fast parser does."""

    def __init__(self) -> None:
        guard = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
        self.expat = guard.parser
        self.expat.StartElementHandler = self._root
        self.done = False

    def _root(self, *_args) -> None:
        raise _RootReached

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if self.done:
            return
        try:
            self.expat.Parse(chunk, final)
        except _RootReached:
            self.done = True
        except ExpatError:
            self.done = True  # the main parser meets the same bytes and reports the error


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a report is parsed.

    Parsing allocates hundreds of thousands of small acyclic objects (elements, rows), which
    makes the cyclic collector run over and over for nothing: about 40 % of the parse time.
    Nothing here creates reference cycles, so reference counting frees everything as usual;
    collection resumes when the last concurrent parse ends."""
    global _gc_depth, _gc_was_enabled
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


def parse_xml_stream(stream, source: str, limits: Limits = DEFAULT_LIMITS) -> AggregateReport:
    """Parse one aggregate report from a binary stream, reading at most `max_xml_bytes`."""
    with _cyclic_gc_paused():
        return _parse_xml_stream(stream, source, limits)


def _parse_xml_stream(stream, source: str, limits: Limits) -> AggregateReport:
    collector = _ReportBuilder(limits.max_rows)
    guard = _PrologGuard()
    tree = TreeBuilder()
    parser = XMLParser(target=tree)  # ElementTree's C parser and tree builder: no Python per element
    # A wrapper element we hold, so finished records can be taken and dropped after each chunk.
    wrapper = tree.start("smewizard-wrapper", {})
    total = 0
    try:
        while True:
            chunk = stream.read(256 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > limits.max_xml_bytes:
                raise ReportError(
                    f"the report is larger than {limits.max_xml_bytes // MiB} MiB of XML; refused "
                    "(real aggregate reports are far smaller — this may be a decompression bomb)"
                )
            guard.feed(chunk)
            parser.feed(chunk)
            if len(wrapper):
                collector.take(wrapper[0], keep_last=True)
        guard.feed(b"", True)
        parser.close()
    except defusedxml.DTDForbidden:
        raise ReportError(
            "the XML declares a DTD (<!DOCTYPE …>); reports never need one and it is how "
            "entity-expansion (billion laughs) and external-entity attacks work, so it was refused"
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise ReportError("the XML declares entities or external references; refused") from None
    except ParseError as exc:
        raise _XmlSyntax(_expat_error_text(exc), exc.code == _BAD_TOKEN) from None
    except LookupError as exc:  # expat asks Python for the codec the XML declaration names
        raise ReportError(f"the XML declares an encoding that does not exist ({exc})") from None
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ReportError(f"the compressed data is damaged: {exc}") from None
    if not len(wrapper):
        raise ReportError("the XML ends before the report does (truncated or empty file)")
    root = wrapper[0]
    collector.root = _NAMES[root.tag]
    if collector.root == "feedback":
        collector.take(root, keep_last=False)
    return _report_from(collector, source)


def _expat_error_text(exc: ParseError) -> str:
    text = errors.messages.get(exc.code) or str(exc).split(":")[0]
    line, column = getattr(exc, "position", (0, 0))
    if exc.code == _NO_ELEMENTS:
        return "the XML ends before the report does (truncated or empty file)"
    hint = ""
    if exc.code == _BAD_TOKEN:
        hint = (" — often a byte that is not valid UTF-8 in a report that does not declare "
                "another encoding, or a file that is not XML at all")
    return f"not well-formed XML at line {line}, column {column}: {text}{hint}"


def parse_report(open_stream: Callable[[], object], source: str, limits: Limits = DEFAULT_LIMITS) -> AggregateReport:
    """Parse a report from a stream that can be opened again. Some reporters put Latin-1 bytes
    (an organisation's name) in a document that claims UTF-8; rather than drop such a report we
    read it again as Windows-1252 and say so."""
    try:
        return parse_xml_stream(open_stream(), source, limits)
    except _XmlSyntax as exc:
        if not exc.bad_token:
            raise
        data = open_stream().read(limits.max_xml_bytes + 1)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise exc from None
        text = data.decode("cp1252", errors="replace")
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
        report = parse_xml_stream(io.BytesIO(text.encode("utf-8")), source, limits)
        note = "the report contains bytes that are not UTF-8; they were read as Windows-1252 (Latin-1)"
        return _with_warning(report, note)


def _with_warning(report: AggregateReport, note: str) -> AggregateReport:
    from dataclasses import replace

    return replace(report, warnings=(*report.warnings, note))


def _report_from(b: _ReportBuilder, source: str) -> AggregateReport:
    if b.root != "feedback":
        raise ReportError(f"not a DMARC aggregate report (the root element is <{b.root or '?'}>, expected <feedback>)")
    report_id = b.meta.get("report_id", "")
    domain = b.policy.get("domain", "").lower().rstrip(".")
    if not report_id:
        raise ReportError("the report has no report_id")
    if not domain:
        raise ReportError("the report has no policy_published/domain")
    warnings = []
    if b.bad_rows:
        warnings.append(f"{b.bad_rows} row(s) with an invalid source IP or count were skipped")
    policy = PublishedPolicy(
        domain=domain,
        p=b.policy.get("p", "").lower(),
        sp=b.policy.get("sp", "").lower(),
        np=b.policy.get("np", "").lower(),
        adkim=b.policy.get("adkim", "").lower(),
        aspf=b.policy.get("aspf", "").lower(),
        testing=(b.policy.get("testing") or b.policy.get("t") or "").lower()[:1],
        pct=b.policy.get("pct", ""),
    )
    return AggregateReport(
        org_name=b.meta.get("org_name", ""),
        report_id=report_id,
        begin=_timestamp(b.dates.get("begin", ""), "date_range/begin"),
        end=_timestamp(b.dates.get("end", ""), "date_range/end"),
        policy=policy,
        rows=tuple(b.rows),
        source=source,
        email=b.meta.get("email", ""),
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------------ containers
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def sniff(data: bytes) -> str:
    """"gzip", "zip", "xml", "mail" or "unknown" from the first bytes."""
    head = data[:512]
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith((b"\xff\xfe<\x00", b"\xfe\xff\x00<")):  # UTF-16 with a byte-order mark
        return "xml"
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"<"):
        return "xml"
    if re.match(rb"^[A-Za-z0-9-]{1,76}:", stripped):
        return "mail"
    return "unknown"


def reports_from_bytes(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS, *, in_mail: bool = False) -> Iterator[AggregateReport | SourceProblem]:
    """Every report inside one stored input; problems are yielded, not raised."""
    kind = sniff(data)
    try:
        if kind == "xml":
            yield parse_report(lambda: io.BytesIO(data), source, limits)
        elif kind == "gzip":
            yield parse_report(lambda: gzip.GzipFile(fileobj=io.BytesIO(data)), source, limits)
        elif kind == "zip":
            yield from _zip_reports(data, source, limits)
        elif kind == "mail" and not in_mail:
            yield from _mail_reports(data, source, limits)
        else:
            yield SourceProblem(source, "not a DMARC report: neither XML, gzip, zip nor an e-mail message")
    except ReportError as exc:
        yield SourceProblem(source, str(exc))


def _zip_reports(data: bytes, source: str, limits: Limits) -> Iterator[AggregateReport | SourceProblem]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise ReportError(f"damaged zip archive: {exc}") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > limits.max_zip_members:
            raise ReportError(f"the zip holds {len(members)} files; more than {limits.max_zip_members} is not a report")
        if not members:
            raise ReportError("the zip archive is empty")
        for member in members:
            label = f"{source}:{member.filename}"
            problem = _zip_member_problem(member, limits)
            if problem:
                yield SourceProblem(label, problem)
                continue
            try:
                yield parse_report(lambda member=member: _open_member(archive, member), label, limits)
            except ReportError as exc:
                yield SourceProblem(label, str(exc))
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error, EOFError) as exc:
                yield SourceProblem(label, f"cannot extract this zip member: {exc}")


def _zip_member_problem(member: zipfile.ZipInfo, limits: Limits) -> str | None:
    if member.flag_bits & 0x1:
        return "the zip member is encrypted"
    if member.file_size > limits.max_xml_bytes:
        return (f"the zip member unpacks to {member.file_size / MiB:.0f} MiB, more than the "
                f"{limits.max_xml_bytes // MiB} MiB limit; refused")
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > limits.max_zip_ratio and member.file_size > MiB:
        return (f"the zip member is compressed {ratio:.0f}:1, far beyond any real report "
                "(a zip bomb); refused")
    return None


def _open_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo):
    """The member's bytes as a stream, unwrapping a .xml.gz inside a zip."""
    stream = archive.open(member)
    head = stream.read(4)
    rest = _Prefixed(head, stream)
    return gzip.GzipFile(fileobj=rest) if head.startswith(GZIP_MAGIC) else rest


class _Prefixed(io.RawIOBase):
    """A stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, stream):
        self.head = head
        self.stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            if size is None or size < 0:
                return out + self.stream.read()
            return out + self.stream.read(max(size - len(out), 0))
        return self.stream.read(size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_REPORT_TYPES = ("application/zip", "application/x-zip-compressed", "application/gzip",
                 "application/x-gzip", "application/xml", "text/xml", "application/octet-stream")


def _mail_reports(data: bytes, source: str, limits: Limits) -> Iterator[AggregateReport | SourceProblem]:
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    found = False
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename() or ""
        if ctype not in _REPORT_TYPES and not re.search(r"\.(xml|gz|zip)$", filename, re.I):
            continue
        payload = part.get_payload(decode=True)
        if not payload:
            continue
        found = True
        label = f"{source}:{filename or ctype}"
        yield from reports_from_bytes(payload, label, limits, in_mail=True)
    if not found:
        yield SourceProblem(source, "an e-mail message without a report attachment (.xml, .gz or .zip)")


# ------------------------------------------------------------------ files and Maildirs
def is_maildir(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "cur")) and os.path.isdir(os.path.join(path, "new"))


_REPORT_SUBJECT = re.compile(rb"^subject:.*report[ _-]?domain", re.I | re.M)
_REPORT_CTYPE = re.compile(rb"^content-type:\s*application/(x-)?(zip|gzip|x-zip-compressed)", re.I | re.M)


def looks_like_report_mail(head: bytes) -> bool:
    """A cheap test on a message's first bytes: the RFC 7489 subject or a zip/gzip attachment."""
    return bool(_REPORT_SUBJECT.search(head) or _REPORT_CTYPE.search(head))


def maildir_messages(path: str, limits: Limits) -> list[str]:
    """Message files in cur/ and new/ not older than `max_maildir_age_days`, newest first, at
    most `max_maildir_messages`."""
    oldest = time.time() - limits.max_maildir_age_days * 86400
    files = []
    for sub in ("new", "cur"):
        folder = os.path.join(path, sub)
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            full = os.path.join(folder, name)
            try:
                mtime = os.stat(full).st_mtime
            except OSError:
                continue
            if mtime >= oldest:
                files.append((mtime, full))
    files.sort(reverse=True)
    return [f for _, f in files[: limits.max_maildir_messages]]


@dataclass(frozen=True)
class Input:
    """One stored file or message: how to read it, and whether it came from a Maildir (where
    messages that are not reports are skipped silently: it is someone's mailbox)."""

    label: str
    size: int
    read: Callable[[int], bytes]  # read(at most n bytes)
    from_maildir: bool = False


def ingest(paths: Iterable[str], limits: Limits = DEFAULT_LIMITS) -> Ingest:
    """Read local files, directories and Maildirs given on the command line."""
    problems: list[SourceProblem] = []
    return ingest_inputs(_expand(paths, limits, problems), limits, problems)


def ingest_host_maildir(host, maildir: str, limits: Limits = DEFAULT_LIMITS) -> Ingest:
    """Read a Maildir on the server through the Host (SME paths; works for the simulated root)."""
    entries = []
    problems: list[SourceProblem] = []
    for sub in ("new", "cur"):
        folder = f"{maildir.rstrip('/')}/{sub}"
        if not host.exists(folder):
            continue
        try:
            names = host.list_dir(folder)
        except Exception as exc:  # noqa: BLE001 - e.g. admin's Maildir is 0700: say so, go on
            problems.append(SourceProblem(folder, f"cannot list the mailbox: {exc}"))
            continue
        for name in names:
            path = f"{folder}/{name}"
            st = host.stat(path)
            if st is not None and st.is_file:
                entries.append((st.mtime, path, st.size))
    oldest = time.time() - limits.max_maildir_age_days * 86400
    entries = sorted((e for e in entries if e[0] >= oldest), reverse=True)
    inputs = [
        Input(path, size, lambda n, path=path: host.read_bytes(path, limit=n), from_maildir=True)
        for _, path, size in entries[: limits.max_maildir_messages]
    ]
    return ingest_inputs(inputs, limits, problems)


def ingest_inputs(inputs: Iterable[Input], limits: Limits, problems: list[SourceProblem]) -> Ingest:
    """De-duplicate reports by (org, report id, domain); collect problems, never raise."""
    reports: dict[tuple[str, str, str], AggregateReport] = {}
    duplicates = count = skipped = 0
    for item in inputs:
        count += 1
        try:
            if item.from_maildir and not looks_like_report_mail(item.read(limits.mail_head_bytes)):
                skipped += 1
                continue
            data = _read_input(item, limits.max_input_bytes)
        except ReportError as exc:
            problems.append(SourceProblem(item.label, str(exc)))
            continue
        except OSError as exc:
            problems.append(SourceProblem(item.label, f"cannot read: {getattr(exc, 'strerror', None) or exc}"))
            continue
        except Exception as exc:  # noqa: BLE001 - HostError and friends: report, go on
            problems.append(SourceProblem(item.label, f"cannot read: {exc}"))
            continue
        for found in reports_from_bytes(data, item.label, limits):
            if isinstance(found, SourceProblem):
                problems.append(found)
            elif found.key in reports:
                duplicates += 1
            else:
                reports[found.key] = found
    return Ingest(tuple(reports.values()), tuple(problems), duplicates, count, skipped)


def _read_input(item: Input, limit: int) -> bytes:
    if item.size > limit:
        raise ReportError(f"the file is {item.size / MiB:.0f} MiB, more than the {limit // MiB} MiB limit; not read")
    data = item.read(min(limit, item.size) + 1)  # read(n) reserves n bytes: ask for what is there
    if len(data) > limit:
        raise ReportError(f"the file grew past the {limit // MiB} MiB limit while being read; not read")
    if len(data) > item.size:  # it grew while we looked: read it whole, still capped
        data += item.read(limit + 1)[len(data):]
        if len(data) > limit:
            raise ReportError(f"the file grew past the {limit // MiB} MiB limit while being read; not read")
    return data


def _local_input(path: str, from_maildir: bool) -> Input:
    def read(n: int) -> bytes:
        # O_NONBLOCK: a named pipe (e.g. dropped in a Maildir) must not hang the scan on open
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ReportError("not a regular file (a pipe, device or socket); not read")
            return fh.read(n)

    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0
    return Input(path, size, read, from_maildir)


def _expand(paths: Iterable[str], limits: Limits, problems: list[SourceProblem]) -> Iterator[Input]:
    for path in paths:
        if is_maildir(path):
            for message in maildir_messages(path, limits):
                yield _local_input(message, True)
        elif os.path.isdir(path):
            for dirpath, _, names in sorted(os.walk(path)):
                for name in sorted(names):
                    yield _local_input(os.path.join(dirpath, name), False)
        elif os.path.exists(path):
            yield _local_input(path, False)
        else:
            problems.append(SourceProblem(path, "no such file or directory"))
