"""Synthetic aggregate reports, the shape Google/Microsoft/Yahoo send, for tests, the benchmark
and the demo server. Deterministic for a given seed."""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class SampleRow:
    source_ip: str
    count: int
    dkim: str = "pass"  # aligned DKIM verdict
    spf: str = "pass"  # aligned SPF verdict
    header_from: str = ""
    dkim_domain: str = ""
    spf_domain: str = ""
    disposition: str = "none"


def report_xml(
    domain: str,
    rows: list[SampleRow],
    *,
    org: str = "google.com",
    report_id: str = "1",
    begin: int = 1_763_942_400,  # 2025-11-24T00:00:00Z
    end: int | None = None,
    p: str = "none",
    testing: str | None = None,
    namespace: bool = False,
) -> bytes:
    end = begin + 86_399 if end is None else end
    out = ['<?xml version="1.0" encoding="UTF-8" ?>']
    out.append('<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">' if namespace else "<feedback>")
    out.append("<version>1.0</version>")
    out.append(
        f"<report_metadata><org_name>{escape(org)}</org_name><email>noreply-dmarc@{escape(org)}</email>"
        f"<report_id>{escape(report_id)}</report_id><date_range><begin>{begin}</begin><end>{end}</end>"
        "</date_range></report_metadata>"
    )
    test_tag = f"<testing>{testing}</testing>" if testing else ""
    out.append(
        f"<policy_published><domain>{escape(domain)}</domain><adkim>r</adkim><aspf>r</aspf>"
        f"<p>{p}</p><sp>{p}</sp>{test_tag}</policy_published>"
    )
    for r in rows:
        hfrom = r.header_from or domain
        dkim_domain = r.dkim_domain or hfrom
        spf_domain = r.spf_domain or hfrom
        raw_dkim = "pass" if r.dkim == "pass" else "fail"
        raw_spf = "pass" if r.spf == "pass" else "softfail"
        out.append(
            f"<record><row><source_ip>{r.source_ip}</source_ip><count>{r.count}</count>"
            f"<policy_evaluated><disposition>{r.disposition}</disposition><dkim>{r.dkim}</dkim>"
            f"<spf>{r.spf}</spf></policy_evaluated></row>"
            f"<identifiers><header_from>{escape(hfrom)}</header_from>"
            f"<envelope_from>{escape(spf_domain)}</envelope_from></identifiers>"
            f"<auth_results><dkim><domain>{escape(dkim_domain)}</domain><selector>default</selector>"
            f"<result>{raw_dkim}</result></dkim><spf><domain>{escape(spf_domain)}</domain>"
            f"<scope>mfrom</scope><result>{raw_spf}</result></spf></auth_results></record>"
        )
    out.append("</feedback>")
    return "\n".join(out).encode("utf-8")


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def report_mail(attachment: bytes, filename: str, *, domain: str, org: str = "google.com", report_id: str = "1") -> bytes:
    """An RFC 7489 report e-mail with one attachment, as it lands in a Maildir."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = f"noreply-dmarc-support@{org}"
    msg["To"] = f"dmarc-feedback@{domain}"
    msg["Subject"] = f"Report domain: {domain} Submitter: {org} Report-ID: {report_id}"
    msg.set_content("This is an aggregate report from " + org + ".")
    maintype, subtype = ("application", "zip") if filename.endswith(".zip") else (
        ("application", "gzip") if filename.endswith(".gz") else ("text", "xml"))
    msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def random_rows(rng: random.Random, domain: str, n: int) -> list[SampleRow]:
    """Rows from a handful of legitimate senders (mostly passing) and some spoofers (failing)."""
    rows = []
    for _ in range(n):
        if rng.random() < 0.8:
            ip = f"203.0.113.{rng.randint(1, 40)}"
            dkim = "pass" if rng.random() < 0.97 else "fail"
            spf = "pass" if rng.random() < 0.95 else "fail"
        else:
            ip = f"198.51.100.{rng.randint(1, 250)}"
            dkim, spf = "fail", "fail"
        rows.append(SampleRow(ip, rng.randint(1, 50), dkim, spf, header_from=domain))
    return rows
