"""Pasted Authentication-Results headers, judged against the server's domains and selectors."""

import pytest

from smewizard.mail.authresults import Expected, UnreadableHeader, aligned, explain, split_headers
from smewizard.model import Status

EXPECTED = Expected(domains=("example.com", "example.org"), selectors={"example.com": "feb2026", "example.org": "mar2026"})

GUIDE_EXAMPLE = """Authentication-Results: mx.google.com;
   dkim=pass header.i=@example.com header.s=feb2026 header.b=AbCdEfGh;
   spf=pass (google.com: domain of user@example.com designates 203.0.113.10 as permitted sender)
       smtp.mailfrom=user@example.com;
   dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.com
"""


def by_method(explanation):
    return {r.method: r for r in explanation.results}


def test_the_guides_gmail_example_passes_everything_and_is_aligned():
    out = explain(GUIDE_EXAMPLE, EXPECTED)
    assert out.authserv_id == "mx.google.com" and out.from_domain == "example.com"
    r = by_method(out)
    assert r["dkim"].status is Status.PASS and r["dkim"].domain == "example.com" and r["dkim"].aligned
    assert any("'feb2026' is the one published" in d for d in r["dkim"].details)
    assert r["spf"].status is Status.PASS and r["spf"].domain == "example.com"
    assert r["dmarc"].status is Status.PASS
    assert any("p=quarantine" in d for d in r["dmarc"].details)
    assert out.status is Status.PASS


def test_wrong_selector_is_a_warning_naming_both_selectors():
    text = GUIDE_EXAMPLE.replace("header.s=feb2026", "header.s=default")
    dkim = by_method(explain(text, EXPECTED))["dkim"]
    assert dkim.status is Status.WARN
    assert "'default'" in dkim.details[0] and "'feb2026'" in dkim.details[0]


def test_unaligned_dkim_pass_cannot_help_dmarc():
    text = ("Authentication-Results: mail-tester.com; dkim=pass header.d=sendgrid.net header.s=s1; "
            "spf=pass smtp.mailfrom=bounces@sendgrid.net; dmarc=fail (p=NONE) header.from=example.org")
    r = by_method(explain(text, EXPECTED))
    assert r["dkim"].status is Status.WARN and r["dkim"].aligned is False
    assert any("not hosted on this server" in d or "not a domain hosted" in d for d in r["dkim"].details)
    assert r["spf"].status is Status.WARN and r["dmarc"].status is Status.FAIL


def test_subdomain_is_relaxed_aligned_not_strict():
    assert aligned("mail.example.com", "example.com") == (False, True)
    assert aligned("example.com", "example.com") == (True, True)
    assert aligned("badexample.com", "example.com") == (False, False)


def test_missing_signature_and_softfail_explain_the_sme_causes():
    text = ("Authentication-Results: mx.example.net; dkim=none; spf=softfail (sender not listed) "
            "smtp.mailfrom=alice@example.org; dmarc=fail header.from=example.org")
    r = by_method(explain(text, EXPECTED))
    assert r["dkim"].status is Status.WARN and "DKIMSigning" in r["dkim"].details[-1]
    assert r["spf"].status is Status.WARN and "relay" in r["spf"].details[0]
    assert explain(text, EXPECTED).status is Status.FAIL


def test_other_methods_are_listed_as_info():
    text = ("Authentication-Results: mx.microsoft.com 1; spf=pass smtp.mailfrom=example.com; "
            "dkim=pass header.d=example.com; dmarc=pass action=none header.from=example.com; compauth=pass reason=100")
    r = by_method(explain(text, EXPECTED))
    assert r["compauth"].status is Status.INFO


def test_paste_without_field_name_and_with_other_headers_around():
    assert explain("dkim=pass header.d=example.com header.s=feb2026", EXPECTED).authserv_id
    text = "Received: from x\n" + GUIDE_EXAMPLE + "Subject: hello\nARC-Authentication-Results: i=1; x; dkim=fail\n"
    headers = split_headers(text)
    assert len(headers) == 1 and "Subject" not in headers[0]


@pytest.mark.parametrize("text", ["", "Authentication-Results: ;;;=", "x" * 70_000])
def test_unreadable_paste_is_a_clear_error(text):
    with pytest.raises(UnreadableHeader):
        explain(text, EXPECTED)
