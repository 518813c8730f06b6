"""Aggregate report ingestion: formats, de-duplication, broken and hostile inputs.

Hostile inputs must each give a clear message and keep memory bounded: peak Python memory is
measured with tracemalloc around the ingestion and compared with a generous bound.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zipfile
import zlib

import pytest

from smewizard.dmarc.reports import Limits, MiB, ingest, reports_from_bytes
from smewizard.dmarc.sample import SampleRow, gzipped, report_mail, report_xml, zipped

ROWS = [SampleRow("192.0.2.1", 10), SampleRow("198.51.100.7", 3, dkim="fail", spf="fail")]


def one(data: bytes, **kw):
    items = list(reports_from_bytes(data, "input", **kw))
    assert len(items) == 1
    return items[0]


def measure(func):
    tracemalloc.start()
    try:
        result = func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_plain_xml_report_is_read_with_rows_and_policy():
    report = one(report_xml("example.com", ROWS, report_id="r1", p="quarantine", testing="y"))
    assert report.report_id == "r1" and report.domain == "example.com" and report.org_name == "google.com"
    assert report.policy.p == "quarantine" and report.policy.testing == "y"
    assert report.messages == 13
    row = report.rows[0]
    assert (row.source_ip, row.count, row.dkim, row.spf) == ("192.0.2.1", 10, "pass", "pass")
    assert row.dkim_auth[0].domain == "example.com" and row.spf_auth[0].scope == "mfrom"


def test_rfc9990_namespaced_report_is_read():
    assert one(report_xml("example.com", ROWS, namespace=True)).messages == 13


def test_gzip_zip_with_several_members_and_mail_attachments_are_read():
    xml = report_xml("example.com", ROWS)
    assert one(gzipped(xml)).messages == 13
    items = list(reports_from_bytes(zipped({"a.xml": xml, "b.xml.gz": gzipped(report_xml("example.com", ROWS, report_id="2"))}), "z.zip"))
    assert [i.source for i in items] == ["z.zip:a.xml", "z.zip:b.xml.gz"]
    mail = report_mail(zipped({"r.xml": xml}), "r.zip", domain="example.com")
    assert one(mail).messages == 13


def test_duplicates_are_counted_once_and_broken_files_do_not_stop_the_rest(tmp_path):
    xml = report_xml("example.com", ROWS, report_id="same")
    (tmp_path / "a.xml").write_bytes(xml)
    (tmp_path / "a.xml.gz").write_bytes(gzipped(xml))
    (tmp_path / "broken.xml").write_bytes(b"<feedback><report_metadata>")
    (tmp_path / "notes.txt").write_bytes(b"\x00\x01 binary junk")
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 truncated")
    result = ingest([str(tmp_path), str(tmp_path / "missing.xml")])
    assert len(result.reports) == 1 and result.duplicates == 1
    messages = {p.source.rsplit("/", 1)[-1]: p.message for p in result.problems}
    assert "truncated" in messages["broken.xml"]
    assert "not a DMARC report" in messages["notes.txt"]
    assert "zip" in messages["bad.zip"]
    assert messages["missing.xml"] == "no such file or directory"


def test_maildir_reads_report_mails_and_skips_other_mail(tmp_path):
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    xml = report_xml("example.com", ROWS, report_id="m1")
    (maildir / "new" / "1.host").write_bytes(report_mail(gzipped(xml), "r.xml.gz", domain="example.com"))
    (maildir / "cur" / "2.host:2,S").write_bytes(b"From: alice@example.com\nSubject: lunch?\n\nsee you")
    result = ingest([str(maildir)])
    assert len(result.reports) == 1 and result.skipped_messages == 1 and result.problems == ()


def test_a_report_without_id_or_domain_is_refused_clearly():
    item = one(b"<feedback><report_metadata><org_name>x</org_name></report_metadata></feedback>")
    assert "no report_id" in item.message
    item = one(b"<html><body>hi</body></html>")
    assert "root element is <html>" in item.message


# ------------------------------------------------------------------ hostile inputs
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feedback><report_metadata><org_name>&xxe;</org_name></report_metadata></feedback>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_dtd_entity_attacks_are_refused_with_a_clear_message(payload):
    item, peak = measure(lambda: one(payload))
    assert "DTD" in item.message and "refused" in item.message
    assert peak < 2 * MiB
    assert "root:" not in item.message


def test_gzip_bomb_stops_at_the_xml_limit_with_bounded_memory():
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    parts = [compressor.compress(b"<feedback><report_metadata><org_name>")]
    chunk = b"A" * MiB
    for _ in range(100):  # 100 MiB of XML text
        parts.append(compressor.compress(chunk))
    parts.append(compressor.flush())
    bomb = b"".join(parts)
    assert len(bomb) < MiB
    item, peak = measure(lambda: one(bomb, limits=Limits(max_xml_bytes=8 * MiB)))
    assert "larger than 8 MiB" in item.message
    assert peak < 40 * MiB


def test_zip_bomb_member_is_refused_before_extraction(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("report.xml", "w", force_zip64=True) as out:
        block = b"\0" * MiB
        for _ in range(200):
            out.write(block)
    assert path.stat().st_size < 2 * MiB
    result, peak = measure(lambda: ingest([str(path)]))
    assert result.reports == () and len(result.problems) == 1
    assert "MiB limit" in result.problems[0].message or "zip bomb" in result.problems[0].message
    assert peak < 8 * MiB


def test_zip_with_a_lying_size_header_is_still_capped_while_streaming():
    data = zipped({"r.xml": b"<feedback>" + b" " * (3 * MiB)})
    items = list(reports_from_bytes(data, "z", limits=Limits(max_xml_bytes=4 * MiB, max_zip_ratio=10**9)))
    assert "larger than" in items[0].message or "ends before" in items[0].message


def test_a_100_mb_file_is_not_read(tmp_path):
    path = tmp_path / "huge.xml"
    with open(path, "wb") as fh:
        fh.write(b"<feedback>")
        fh.seek(100 * MiB)
        fh.write(b"</feedback>")
    result, peak = measure(lambda: ingest([str(path)]))
    assert "MiB limit; not read" in result.problems[0].message
    assert peak < 4 * MiB


def test_report_for_another_domain_is_read_and_kept_apart():
    from smewizard.dmarc.summary import summarize

    report = one(report_xml("other.org", ROWS))
    summary = summarize([report], ["example.com"])
    assert summary.domains == () and summary.foreign == (("other.org", 1),)


def test_non_utf8_bytes_are_read_as_latin1_with_a_warning():
    xml = report_xml("example.com", ROWS, org="Caf\u00e9 Mail").replace("Caf\u00e9".encode(), b"Caf\xe9")
    for data in (xml, gzipped(xml), zipped({"r.xml": xml})):
        report = one(data)
        assert report.org_name == "Caf\u00e9 Mail"
        assert any("not UTF-8" in w for w in report.warnings)


def test_declared_latin1_encoding_is_honoured_without_warning():
    xml = report_xml("example.com", ROWS, org="Caf\u00e9").replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').replace("Caf\u00e9".encode(), b"Caf\xe9")
    report = one(xml)
    assert report.org_name == "Caf\u00e9" and report.warnings == ()


def test_an_unknown_declared_encoding_is_a_problem_not_a_crash():
    xml = report_xml("example.com", ROWS).replace(b'encoding="UTF-8"', b'encoding="U-TF-8"')
    for data in (xml, gzipped(xml), zipped({"r.xml": xml})):
        assert "declares an encoding that does not exist" in one(data).message


def test_rows_with_bad_ip_or_count_are_skipped_with_a_warning():
    xml = report_xml("example.com", [SampleRow("not-an-ip", 3), SampleRow("192.0.2.5", 2)])
    report = one(xml)
    assert report.messages == 2 and "skipped" in report.warnings[0]


def test_an_absurd_count_is_a_bad_row_not_evidence():
    # QA4 M3: one forged row with 10**23 messages swamped every pass rate of the ramp
    xml = report_xml("example.com", [SampleRow("192.0.2.9", 10**23), SampleRow("192.0.2.5", 2)])
    report = one(xml)
    assert report.messages == 2 and "skipped" in report.warnings[0]


def test_truncated_gzip_is_reported_not_raised():
    data = gzip.compress(report_xml("example.com", ROWS))[:-20]
    assert "damaged" in one(data).message or "ends before" in one(data).message


def test_an_unreadable_mailbox_is_reported_not_silently_empty(tmp_path):
    import os

    from smewizard.dmarc.reports import ingest_host_maildir
    from smewizard.host import LocalHost

    new = tmp_path / "home/e-smith/Maildir/new"
    new.mkdir(parents=True)
    host = LocalHost(tmp_path)
    if os.geteuid() == 0:
        class Refusing(LocalHost):
            def list_dir(self, path):
                from smewizard.host.base import PermissionDenied
                raise PermissionDenied(f"{path}: permission denied")
        host = Refusing(tmp_path)
    else:
        new.chmod(0)
    result = ingest_host_maildir(host, "/home/e-smith/Maildir")
    assert "permission denied" in result.problems[0].message.lower()


def test_maildir_ignores_mail_older_than_the_age_limit(tmp_path):
    import os
    import time

    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for name, rid, age_days in (("old", "o", 200), ("fresh", "f", 3)):
        path = maildir / "cur" / name
        path.write_bytes(report_mail(report_xml("example.com", ROWS, report_id=rid), "r.xml", domain="example.com"))
        stamp = time.time() - age_days * 86400
        os.utime(path, (stamp, stamp))
    result = ingest([str(maildir)], Limits(max_maildir_age_days=120))
    assert [r.report_id for r in result.reports] == ["f"]


def test_the_garbage_collector_is_back_on_after_parsing_good_and_bad_reports():
    import gc

    assert gc.isenabled()
    one(report_xml("example.com", ROWS))
    one(b"<feedback><broken")
    one(BILLION_LAUGHS)
    assert gc.isenabled()


@pytest.mark.parametrize("prefix", [
    b'<?xml version="1.0"?>' + b" " * (256 * 1024 - 30),  # DOCTYPE across the first chunk boundary
    b'<?xml version="1.0"?><!--' + b"x" * (600 * 1024) + b"-->",  # after a long comment
], ids=["chunk-boundary", "after-long-comment"])
def test_a_dtd_anywhere_in_the_prolog_is_refused(prefix):
    attack = BILLION_LAUGHS.split(b"?>", 1)[1]
    item, peak = measure(lambda: one(prefix + attack))
    assert "DTD" in item.message
    assert peak < 8 * MiB


def test_a_utf16_document_with_a_dtd_is_refused():
    text = BILLION_LAUGHS.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    assert "DTD" in one(text.encode("utf-16")).message


def test_an_entity_reference_without_a_dtd_is_a_clear_error():
    item = one(b"<feedback><report_metadata><org_name>&xxe;</org_name></report_metadata></feedback>")
    assert "undefined entity" in item.message


def test_a_utf16_report_is_read():
    xml = report_xml("example.com", ROWS).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert one(xml.encode("utf-16")).messages == 13
