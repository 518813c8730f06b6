"""The Summary Checklist model: which findings decide each cell."""

from smewizard import checklist
from smewizard.checklist import Cell
from smewizard.model import Assessment, Finding, Status

DOMAINS = ("example.com", "example.org")


def f(code, status, domain=None):
    return Finding(code, status, code, domain=domain)


def test_every_guide_item_has_a_row_with_a_known_step():
    from smewizard.steps.registry import STEP_INFO

    assert len(checklist.ITEMS) == 17
    assert {i.step for i in checklist.ITEMS} <= {s.key for s in STEP_INFO}
    assert len({i.key for i in checklist.ITEMS}) == 17


def test_a_step_that_has_not_run_is_na_never_pass():
    cl = checklist.build(DOMAINS, {})
    assert {c.cell for _, cells in cl.rows for c in cells} == {Cell.NA}


def test_worst_deciding_finding_wins_and_info_counts_as_pass():
    spf = Assessment("spf", (f("SPF015", Status.PASS, "example.com"), f("SPF005", Status.FAIL, "example.com"),
                             f("SPF020", Status.WARN, "example.com"), f("SPF015", Status.INFO, "example.org")))
    cl = checklist.build(DOMAINS, {"spf": spf})
    assert cl.cell("spf-published", "example.com").cell is Cell.FAIL
    assert [x.code for x in cl.cell("spf-published", "example.com").findings] == ["SPF015", "SPF005"]
    assert cl.cell("spf-published", "example.org").cell is Cell.PASS


def test_absent_codes_give_the_rows_default():
    cl = checklist.build(DOMAINS, {"spf": Assessment("spf", ()), "dkim": Assessment("dkim", ())})
    assert cl.cell("spf-no-ptr", "example.com").cell is Cell.PASS  # only reports problems
    assert cl.cell("spf-published", "example.com").cell is Cell.UNKNOWN  # needs a positive finding
    assert cl.cell("dkim-signing", None).cell is Cell.PASS


def test_server_wide_findings_count_for_every_domain_and_server_rows_have_one_cell():
    dns_failure = Assessment("spf", (f("SPF014", Status.UNKNOWN),))
    helo = Assessment("helo", (f("HELO013", Status.WARN),))
    cl = checklist.build(DOMAINS, {"spf": dns_failure, "helo": helo})
    assert cl.cell("spf-no-ptr", "example.org").cell is Cell.UNKNOWN
    assert cl.cell("helohost", None).cell is Cell.WARN
    assert cl.to_json()["items"][10]["cells"] == {"server": {"status": "warn", "codes": ["HELO013"], "step": "helo"}}


def test_recast_codes_for_dmarc_reports():
    dmarc = Assessment("dmarc", (f("DMARC021", Status.INFO, "example.com"), f("DMARC022", Status.PASS, "example.org")))
    cl = checklist.build(DOMAINS, {"dmarc": dmarc})
    assert cl.cell("dmarc-reports", "example.com").cell is Cell.UNKNOWN
    assert cl.cell("dmarc-reports", "example.org").cell is Cell.PASS


def test_what_qmail_announces_decides_the_helohost_row_with_the_db_key():
    # the db key can be right while the generated helohost file is not: the row must fail
    helo = Assessment("helo", (f("HELO018", Status.PASS), f("HELO021", Status.FAIL)))
    assert checklist.build(DOMAINS, {"helo": helo}).cell("helohost", None).cell is Cell.FAIL
    helo = Assessment("helo", (f("HELO018", Status.PASS), f("HELO020", Status.PASS)))
    assert checklist.build(DOMAINS, {"helo": helo}).cell("helohost", None).cell is Cell.PASS


def test_dkim_links_and_email_update_are_na_not_pass_for_a_domain_without_its_key():
    # QA3 M2: a domain with no key showed "pass" for its links; nothing to check yet is n.a.
    dkim = Assessment("dkim", (f("DKIM001", Status.FAIL, "example.org"), f("DKIM029", Status.PASS, "example.com")))
    cl = checklist.build(DOMAINS, {"dkim": dkim})
    assert cl.cell("dkim-keys", "example.org").cell is Cell.FAIL
    assert cl.cell("dkim-links", "example.org").cell is Cell.NA
    assert cl.cell("email-update", "example.org").cell is Cell.NA
    assert cl.cell("dkim-keys", "example.com").cell is Cell.PASS
    assert cl.cell("dkim-links", "example.com").cell is Cell.PASS  # key in place, no problem reported
    broken = Assessment("dkim", (*dkim.findings, f("DKIM013", Status.FAIL, "example.org")))
    assert checklist.build(DOMAINS, {"dkim": broken}).cell("dkim-links", "example.org").cell is Cell.FAIL
