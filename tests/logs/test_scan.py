"""Scanning qpsmtpd/qmail multilog logs: per-domain signing, verdicts, rotation, streaming."""

from __future__ import annotations

from pathlib import Path

import pytest

from smewizard.host.base import NotFound
from smewizard.logs import LogTail, log_files, read_qmail, read_qpsmtpd, scan_files
from smewizard.logs.tai64n import encode

T0 = 1_795_570_000.0


def multilog(lines: list[str], start: float = T0, step: float = 1.0) -> str:
    return "".join(f"{encode(start + i * step)} {line}\n" for i, line in enumerate(lines))


def terse(pid: int, sender: str, plugin: str = "queue", code: int = 250) -> str:
    return (f"{pid} (deny) logging::logterse: ` 192.168.1.20\tws.example\tws.example\t<{sender}>"
            f"\t<x@gmail.example>\t{plugin}\t{code}\tmessage")


def outbound(pid: int, sender: str, verdict: str = "pass, we signed the message", hook="data_post_headers"):
    return [f"{pid} Accepted connection 0/40 from 192.168.1.20 / ws.example",
            f"{pid} ({hook}) dkim: {verdict}", f"{pid} (queue) queue::qmail_2dqueue: Queued!", terse(pid, sender)]


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_signed_message_is_attributed_to_the_sender_domain_of_the_same_pid(tmp_path):
    # two connections interleave: the summary line of each names its own sender
    lines = [
        "100 (data_post_headers) dkim: pass, we signed the message",
        "200 (data_post) dkim: pass, we signed the message",  # qpsmtpd 0.94 hook name
        terse(200, "bob@example.org"),
        terse(100, "alice@Example.COM"),
    ]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert set(summary.domains) == {"example.com", "example.org"}
    com = summary.domain("example.com").last_signed
    assert com.pid == "100" and com.when.unix == int(T0)
    assert summary.domain("example.org").last_signed.pid == "200"
    assert summary.unattributed_signed == 0


def test_parent_domain_key_line_names_the_signing_domain(tmp_path):
    lines = ["300 (data_post_headers) dkim: info, using example.com key for example.com",
             "300 (data_post_headers) dkim: pass, we signed the message",
             terse(300, "carol@sub.example.com")]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert summary.domain("example.com").signed == 1
    assert summary.domain("sub.example.com").last_signed is None


def test_last_signed_and_skip_per_domain_with_counts(tmp_path):
    lines = [*outbound(1, "a@example.com"), *outbound(2, "a@example.com"),
             *outbound(3, "a@example.net", "skip, DKIM not configured for example.net"),
             *outbound(4, "a@example.net", "skip, DKIM not configured for example.net")]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    com, net = summary.domain("example.com"), summary.domain("example.net")
    assert (com.signed, com.skipped, com.last_signed.pid) == (2, 0, "2")
    assert (net.signed, net.skipped, net.last_skip.pid) == (0, 2, "4")
    assert net.last_skip.text == "dkim: skip, DKIM not configured for example.net"


def test_a_signed_line_without_summary_is_counted_not_guessed(tmp_path):
    lines = ["500 (data_post_headers) dkim: pass, we signed the message"]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert summary.domains == {} and summary.unattributed_signed == 1


def test_dkim_key_errors_are_reported_for_their_domain(tmp_path):
    lines = ["600 (data_post_headers) dkim: error, unable to read dkim key from config/dkim/example.com/private"]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert summary.domain("example.com").errors == 1


def test_spamassassin_clamav_and_badmailfrom_verdicts(tmp_path):
    lines = [
        "700 (data_post) spamassassin: pass, Ham, -1.2 < 12",
        "701 (data_post) spamassassin: fail, Spam, 14.1 > 12, autolearn=spam",
        "702 (data_post) spamassassin: fail, tolerated, Spam, 6.0 < 12",
        "703 (data_post) virus::clamdscan: pass, clean",
        "704 (data_post) virus::clamav: fail, found virus Eicar-Test-Signature",
        "705 (mail) check_badmailfrom: pass",
        "706 (mail) badmailfrom: fail, Your envelope sender is in my badmailfrom list",
        terse(706, "spam@bad.example", plugin="badmailfrom", code=550),
        terse(707, "other@bad.example", plugin="check_badmailfrom", code=550),
    ]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert dict(summary.spamassassin.counts) == {"pass": 1, "fail": 1, "tolerated": 1}
    assert [r.pid for r in summary.spamassassin.recent] == ["701", "702"]
    assert dict(summary.clamav.counts) == {"pass": 1, "fail": 1}
    assert "Eicar" in summary.clamav.recent[0].text
    assert summary.badmailfrom.counts["rejected"] == 2  # 706 counted once, 707 from its summary


def test_tiny_chunks_give_the_same_answer_as_one_chunk(tmp_path):
    lines = []
    for pid in range(50):
        lines += outbound(pid, f"u@d{pid % 7}.example")
    path = write(tmp_path / "current", multilog(lines))
    whole = scan_files([path])
    pieces = scan_files([path], chunk_size=37)
    assert whole.to_json() == pieces.to_json()
    assert sum(d.signed for d in whole.domains.values()) == 50


def test_bad_labels_are_counted_and_lines_still_scanned(tmp_path):
    text = "@4000ZZZZ 1 (data_post) dkim: pass, we signed the message\n" + terse(1, "a@example.com") + "\n"
    summary = scan_files([write(tmp_path / "current", text)])
    assert summary.domain("example.com").signed == 1
    assert summary.domain("example.com").last_signed.when is None


def test_rotated_files_are_read_oldest_first_then_current(sim_root):
    sim = sim_root("fresh")
    host = sim.host()
    logdir = sim.root / "var/log/qpsmtpd"
    old = encode(T0 - 7200).lstrip("@")
    older = encode(T0 - 9000).lstrip("@")
    write(logdir / f"@{old}.s", multilog(outbound(2, "a@example.com"), start=T0 - 7300))
    write(logdir / f"@{older}.s", multilog(outbound(1, "a@example.com"), start=T0 - 9100))
    write(logdir / "state", "")
    files = log_files(host, "/var/log/qpsmtpd")
    assert files == [f"/var/log/qpsmtpd/@{older}.s", f"/var/log/qpsmtpd/@{old}.s", "/var/log/qpsmtpd/current"]
    summary = read_qpsmtpd(host)
    entry = summary.domain("example.com")
    assert entry.signed == 2 and entry.last_signed.pid == "2"
    assert entry.last_signed.source.endswith(f"@{old}.s")
    assert entry.skipped == 1  # the fresh scenario's own current log: DKIM not configured


def test_sim_good_scenario_signs_both_domains(sim_root):
    summary = read_qpsmtpd(sim_root("good").host())
    for domain in ("example.com", "example.org"):
        assert summary.domain(domain).last_signed is not None
        assert summary.domain(domain).skipped == 0


def test_missing_log_directory_is_not_found(sim_root):
    sim = sim_root("fresh")
    with pytest.raises(NotFound):
        read_qpsmtpd(sim.host(), "/var/log/nothing-here")


def test_qmail_log_deliveries_and_senders(sim_root):
    out = read_qmail(sim_root("demo").host())
    assert out.deliveries == {"success": 4}
    assert {"example.com", "example.org", "shop.example.net"} <= set(out.last_from_domain)


def test_tail_returns_only_new_complete_lines_and_follows_rotation(sim_root):
    sim = sim_root("fresh")
    current = sim.root / "var/log/qpsmtpd/current"
    tail = LogTail(sim.host(), "/var/log/qpsmtpd/current")
    assert tail.poll() == []
    with current.open("a") as fh:
        fh.write(multilog(["9 (data_post_headers) dkim: pass, we signed the message"]) + "@40000000")
    [(stamp, text)] = tail.poll()
    assert text == "9 (data_post_headers) dkim: pass, we signed the message" and stamp.unix == int(T0)
    with current.open("a") as fh:
        fh.write("0000000000000000 10 tail end\n")
    assert [t for _, t in tail.poll()] == ["10 tail end"]
    current.rename(current.with_name("@400000006925aaaa00000000.s"))
    current.write_text(multilog(["11 new file"]))
    assert [t for _, t in tail.poll()] == ["11 new file"]


def test_without_summary_lines_the_pids_mail_from_names_the_domain(tmp_path):
    # Debian's qpsmtpd without logterse: forkserver logs the envelope at LOGINFO
    lines = ["800 dispatching MAIL FROM:<alice@example.com>",
             "801 dispatching MAIL FROM:<bob@example.org> SIZE=100",
             "800 (data_post) dkim: pass, we signed the message",
             "801 (data_post) dkim: skip, DKIM not configured for example.org"]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert summary.domain("example.com").signed == 1 and summary.unattributed_signed == 0


class RemoteLike:
    """A host without a local path mapping (as SshHost): files are read with `tail -c`."""

    def __init__(self, host):
        self.inner = host

    def __getattr__(self, name):
        if name == "real":
            raise AttributeError(name)
        return getattr(self.inner, name)


def test_remote_hosts_read_only_the_end_of_big_files(sim_root, monkeypatch):
    import smewizard.logs as logs

    sim = sim_root("good")
    monkeypatch.setattr(logs, "REMOTE_READ_LIMIT", 300)  # the last 300 bytes: one or two lines
    remote = RemoteLike(sim.host())
    whole = read_qpsmtpd(sim.host())
    cut = read_qpsmtpd(remote)
    assert cut.bytes_read <= 300 < whole.bytes_read
    assert all(line.startswith(b"@4000") for line in
               logs._remote_tail(remote, "/var/log/qpsmtpd/current", "300").splitlines())
    with pytest.raises(NotFound):
        read_qpsmtpd(RemoteLike(sim.host()), "/var/log/none")


def test_tail_of_a_remote_host_follows_new_lines(sim_root):
    sim = sim_root("fresh")
    tail = LogTail(RemoteLike(sim.host()), "/var/log/qpsmtpd/current")
    with (sim.root / "var/log/qpsmtpd/current").open("a") as fh:
        fh.write(multilog(["12 remote line"]))
    assert [t for _, t in tail.poll()] == ["12 remote line"]


def test_a_line_whose_head_is_longer_than_usual_is_still_read_whole(tmp_path):
    # label, PID and hook normally fit in 100 bytes before the plugin name; a long hook must not
    # cut the line or lose its PID
    hook = "data_post_headers" + "_x" * 80
    lines = ["900 Accepted connection", f"900 ({hook}) dkim: pass, we signed the message",
             f"900 ({hook}) logging::logterse: ` 1.2.3.4\th\th\t<a@long.example>\t<b@x.example>\tqueue\t250\tok"]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    entry = summary.domain("long.example")
    assert entry.signed == 1 and entry.last_signed.pid == "900" and entry.last_signed.when.unix == int(T0) + 1


def test_spamassassin_verdict_words(tmp_path):
    messages = ["fail, tolerated, Spam, 6.0 < 12", "fail,  tolerated, two spaces", "fail, Tolerated, capital",
                "fail, Spam, 14.1 > 12", "FAIL, Spam, upper case", "skip, message too big"]
    lines = [f"{700 + i} (data_post) spamassassin: {m}" for i, m in enumerate(messages)]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert dict(summary.spamassassin.counts) == {"tolerated": 3, "fail": 2, "skip": 1}
    assert [r.pid for r in summary.spamassassin.recent] == ["700", "701", "702", "703", "704"]


def test_only_the_latest_twenty_spam_verdicts_are_kept_in_order(tmp_path):
    lines = [f"{100 + i} (data_post) spamassassin: fail, Spam, {i} > 12" for i in range(25)]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    assert summary.spamassassin.counts["fail"] == 25
    assert [r.pid for r in summary.spamassassin.recent] == [str(100 + i) for i in range(5, 25)]
    assert summary.spamassassin.recent[-1].text == "spamassassin: fail, Spam, 24 > 12"
    assert summary.spamassassin.recent[-1].when.unix == int(T0) + 24


def test_skips_for_one_domain_spelled_differently_add_up_and_the_latest_wins(tmp_path):
    lines = ["1 (data_post_headers) dkim: skip, DKIM not configured for example.net",
             "2 (data_post_headers) dkim: skip, DKIM not configured for Example.NET",
             "3 (data_post_headers) dkim: skip, DKIM not configured for example.net",
             "4 (data_post_headers) dkim: skip, DKIM not configured for other.example"]
    summary = scan_files([write(tmp_path / "current", multilog(lines))])
    net = summary.domain("example.net")
    assert (net.skipped, net.last_skip.pid, net.last_skip.when.unix) == (3, "3", int(T0) + 2)
    assert summary.domain("other.example").skipped == 1


@pytest.mark.parametrize("chunk_size", [1, 5, 64, 1000])
def test_any_block_size_gives_the_same_summary(tmp_path, chunk_size):
    lines = []
    for pid in range(30):
        lines += outbound(pid, f"u@d{pid % 4}.example")
        lines += [f"{pid} (data_post) spamassassin: fail, Spam, 20 > 12", f"{pid} (data_post) virus::clamav: pass"]
    lines.append("77 (data_post_headers) dkim: skip, DKIM not configured for d9.example")
    path = write(tmp_path / "current", multilog(lines))
    assert scan_files([path], chunk_size=chunk_size).to_json() == scan_files([path]).to_json()


def test_first_and_last_times_skip_a_garbled_or_blank_line_at_either_end(tmp_path):
    # QA3 L10: a garbled first line or a blank last line made the covered period "unknown"
    good = multilog(["1 (data_post) dkim: pass, we signed the message", "2 (mail) helo: pass"])
    summary = scan_files([write(tmp_path / "current", "x garbage\n" + good + "\n\n")])
    assert summary.first.unix == int(T0) and summary.last.unix == int(T0) + 1


def test_bytes_read_is_the_files_size_even_without_a_final_newline(tmp_path):
    # QA3 L11: the newline the scanner adds to a cut last line was counted
    text = multilog(["1 (mail) helo: pass"]) + "@4000 partial line"
    path = write(tmp_path / "current", text)
    assert scan_files([path]).bytes_read == Path(path).stat().st_size
