"""`smewizard dmarc report`: files, the server's rua mailbox, JSON, problems and usage errors."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from smewizard.cli import main
from smewizard.dmarc.reports import reports_from_bytes
from smewizard.dmarc.sample import SampleRow, gzipped, report_mail, report_xml, zipped


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_reports(folder):
    folder.mkdir(exist_ok=True)
    rows = [SampleRow("192.0.2.10", 30), SampleRow("198.51.100.3", 10, dkim="fail", spf="fail")]
    (folder / "a.xml").write_bytes(report_xml("example.com", rows, report_id="a"))
    (folder / "a-again.xml.gz").write_bytes(gzipped(report_xml("example.com", rows, report_id="a")))
    (folder / "b.zip").write_bytes(zipped({"b.xml": report_xml("example.com", rows, report_id="b", begin=1_764_028_800)}))
    (folder / "broken.xml").write_bytes(b"<feedback>")


def test_text_report_lists_sources_rates_and_problems(capsys, tmp_path):
    write_reports(tmp_path / "r")
    code, out, err = run(capsys, "dmarc", "report", str(tmp_path / "r"), "--no-dns")
    assert code == 0 and err == ""
    assert "2 report(s), 1 duplicate(s), 1 problem(s)" in out
    assert "example.com: 2 report(s), 80 message(s), DMARC pass 75.0%" in out
    assert "192.0.2.10" in out and "broken.xml" in out


def test_json_report_has_per_source_rates_and_daily_series(capsys, tmp_path):
    write_reports(tmp_path / "r")
    code, out, _ = run(capsys, "dmarc", "report", str(tmp_path / "r"), "--json", "--no-dns")
    data = json.loads(out)
    assert code == 0 and data["schema"] == 1 and data["duplicates"] == 1
    domain = data["domains"][0]
    assert domain["domain"] == "example.com" and domain["messages"] == 80
    by_ip = {s["ip"]: s for s in domain["sources"]}
    assert by_ip["192.0.2.10"]["pass_rate"] == 1.0 and by_ip["198.51.100.3"]["dkim_aligned_rate"] == 0.0
    assert [d["messages"] for d in domain["daily"]] == [40, 40]
    assert data["problems"][0]["source"].endswith("broken.xml")


def test_nothing_readable_exits_1(capsys, tmp_path):
    (tmp_path / "x.xml").write_bytes(b"junk")
    code, out, _ = run(capsys, "dmarc", "report", str(tmp_path / "x.xml"), "--no-dns")
    assert code == 1 and "not a DMARC report" in out


def test_bad_max_size_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "dmarc", "report", str(tmp_path), "--max-size", "0")
    assert code == 2 and "--max-size" in err and "Traceback" not in err


def test_reads_the_servers_rua_mailbox_with_spf_and_ptr(capsys, sim_dns, auth_server):
    sim, _ = sim_dns("good")
    new = sim.root / "home/e-smith/Maildir/new"
    new.mkdir(parents=True)
    xml = report_xml("example.com", [SampleRow("203.0.113.10", 12)], report_id="m")
    (new / "1.sim").write_bytes(report_mail(gzipped(xml), "r.xml.gz", domain="example.com"))
    other = report_xml("stranger.example", [SampleRow("192.0.2.1", 1)], report_id="o")
    (new / "2.sim").write_bytes(report_mail(other, "o.xml", domain="stranger.example"))
    ip, port = auth_server.address
    code, out, _ = run(capsys, "dmarc", "report", "--root", str(sim.root), "--nameserver", f"{ip}:{port}",
                       "--dns-timeout", "5", "--json")
    data = json.loads(out)
    assert code == 0
    source = data["domains"][0]["sources"][0]
    assert source["ip"] == "203.0.113.10" and source["in_spf"] is True and source["reverse_name"] == "mail.example.com"
    assert data["other_domains"] == [{"domain": "stranger.example", "reports": 1}]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    for item in reports_from_bytes(data, "fuzz"):
        assert item is not None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.binary(min_size=1, max_size=8))
def test_damaged_reports_never_raise(cut, noise):
    xml = report_xml("example.com", [SampleRow("192.0.2.1", 1), SampleRow("192.0.2.2", 2)])
    damaged = xml[:cut] + noise + xml[cut:]
    for data in (damaged, gzipped(damaged)[: cut or None], zipped({"r.xml": damaged})):
        list(reports_from_bytes(data, "fuzz"))


def test_ramp_command_stores_settings_and_judges_with_them(capsys, sim_dns, auth_server):
    from datetime import UTC, datetime, timedelta

    from smewizard.dmarc.ramp import read_state

    sim, _ = sim_dns("good")
    auth_server.set_txt("_dmarc.example.com", ["v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com"])
    new = sim.root / "home/e-smith/Maildir/new"
    new.mkdir(parents=True)
    now = datetime.now(UTC)
    for day in range(20):
        begin = int((now - timedelta(days=20 - day)).timestamp())
        xml = report_xml("example.com", [SampleRow("203.0.113.10", 30)], report_id=f"d{day}", begin=begin)
        (new / f"{day}.sim").write_bytes(report_mail(xml, "r.xml", domain="example.com"))
    ip, port = auth_server.address
    target = ("--root", str(sim.root), "--nameserver", f"{ip}:{port}", "--dns-timeout", "5")
    code, out, _ = run(capsys, "dmarc", "ramp", *target)
    assert code == 0 and "example.com: p=none (monitoring), 20 days — READY for p=quarantine" in out
    state = sim.root / "home/e-smith/db/smewizard-dmarc.json"
    before = state.read_bytes() if state.exists() else None
    code, out, err = run(capsys, "dmarc", "ramp", *target, "--min-days", "30", "--dry-run")
    assert code == 0 and "dry run: would save" in err and "nothing was changed" in err  # QA4 H2
    assert (state.read_bytes() if state.exists() else None) == before
    code, out, err = run(capsys, "dmarc", "ramp", *target, "--min-days", "30", "--threshold", "99.5", "--json")
    data = json.loads(out)
    assert code == 0 and "saved to /home/e-smith/db/smewizard-dmarc.json" in err
    assert data["settings"]["min_days"] == 30 and data["domains"][0]["ready"] is False
    assert read_state(sim.host()).settings.threshold == 0.995
    code, _, err = run(capsys, "dmarc", "ramp", *target, "--threshold", "20")
    assert code == 2 and "threshold" in err


def test_a_missing_named_file_is_an_input_error(capsys, tmp_path):
    missing = tmp_path / "nonexistent.xml"
    code, out, err = run(capsys, "dmarc", "report", str(missing), "--no-dns")
    assert code == 2 and out == ""
    assert f"{missing}: no such file or directory; nothing was read" in err and "Traceback" not in err
    code, _, err = run(capsys, "dmarc", "report", "--maildir", str(tmp_path / "no-maildir"), "--no-dns")
    assert code == 2 and "no-maildir: no such file or directory" in err


def test_a_named_pipe_is_refused_not_waited_on(capsys, tmp_path):
    # QA4 M4: opening a FIFO blocked forever (one in a Maildir would hang the DMARC step)
    import os

    folder = tmp_path / "reports"
    folder.mkdir()
    os.mkfifo(folder / "x.xml")
    code, out, err = run(capsys, "dmarc", "report", str(folder / "x.xml"), "--no-dns")
    assert "not a regular file" in out + err
    code, out, err = run(capsys, "dmarc", "report", str(folder), "--no-dns")
    assert "not a regular file" in out + err and "Traceback" not in out + err


def test_no_column_legend_when_no_report_was_read(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, "dmarc", "report", str(tmp_path / "empty"), "--no-dns")
    assert "DKIM/SPF columns" not in out  # QA4 L3: a legend for a table that is not there
