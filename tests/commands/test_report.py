"""`smewizard report` in md, json and html, and `check --json`'s checklist."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

from smewizard.commands.report import to_html
from smewizard.engine import AuditResult
from smewizard.model import Assessment, Finding, Status
from tests.commands.test_records import run_cli


def test_json_report_is_check_json_with_the_checklist(capsys, sim_dns, auth_server):
    sim, _ = sim_dns("demo")
    code, out, _ = run_cli(capsys, sim, auth_server, "report", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["schema"] == 1
    items = {i["key"]: i for i in data["checklist"]["items"]}
    assert items["dkim-signing"]["cells"]["server"]["status"] == "fail"
    assert items["dkim-signing"]["cells"]["server"]["codes"] == ["DKIM014"]
    assert items["spf-no-ptr"]["cells"]["example.org"]["status"] == "warn"
    assert set(data["checklist"]["domains"]) == {"example.com", "example.org", "shop.example.net"}


def test_markdown_report_has_the_checklist_findings_and_records(capsys, sim_dns, auth_server):
    sim, _ = sim_dns("demo")
    _, out, _ = run_cli(capsys, sim, auth_server, "report")
    assert "| No deprecated ptr mechanism in SPF | Part 1 | ✔ pass | ⚠ warn | ✔ pass |  |" in out
    assert "`DKIM014`" in out and "_dmarc.example.org" in out


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.external += [v for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_and_escaped(capsys, sim_dns, auth_server, tmp_path):
    sim, _ = sim_dns("demo")
    target = tmp_path / "report.html"
    code, out, err = run_cli(capsys, sim, auth_server, "report", "--format", "html", "-o", str(target))
    assert out == "" and "Report written" in err
    page = target.read_text()
    parser = _Collect()
    parser.feed(page)
    assert "script" not in parser.tags and parser.external == [] and "table" in parser.tags
    code, _, err = run_cli(capsys, sim, auth_server, "report", "--format", "html", "-o", str(target))
    assert code == 2 and "already exists" in err


def test_html_escapes_hostile_values():

    class Config:
        fqdn = "<script>alert(1)</script>"

    class Server:
        config = Config()
        domains = ("example.com",)

    bad = Finding("SPF003", Status.FAIL, "record <b onmouseover=x>", domain="example.com")
    page = to_html(AuditResult(Server(), {"spf": Assessment("spf", (bad,))}), "t", datetime.now(UTC))
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b onmouseover" not in page


def test_report_help_states_its_exit_status(capsys):
    import pytest

    from smewizard.cli import main

    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "1 the report was written and holds a failing finding" in text
