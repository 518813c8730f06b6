"""Lab: Debian's real `sa-learn` builds a Bayes db from generated messages, and the wizard's
parser reads its `--dump magic` output (trained and empty) through Host.run.

As root, sa-learn writes ~/.spamassassin in the real home whatever HOME says, so the test runs
it as `nobody` (setpriv) with HOME and --dbpath inside tmp_path: root's home is never touched."""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from smewizard.host import LocalHost
from smewizard.mail.spamassassin import BAYES_MIN_MESSAGES, BayesState, read_dump_result
from tests.conftest import need_program

SPAM_WORDS = "viagra cheap pills winner lottery bitcoin prize claim urgent wire offer casino".split()
HAM_WORDS = "meeting agenda project report invoice schedule lunch thanks review budget team".split()


def write_messages(folder: Path, kind: str, words: list[str], count: int) -> None:
    rng = random.Random(kind)
    folder.mkdir(parents=True)
    for i in range(count):
        body = " ".join(rng.choice(words) + str(rng.randint(0, 60)) for _ in range(60))
        (folder / f"{i}.eml").write_text(
            f"From: sender{i}@{kind}.example\nTo: user@example.com\nSubject: {kind} {i}\n"
            f"Message-ID: <{kind}{i}@{kind}.example>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n{body}\n"
        )


@pytest.fixture
def work() -> Iterator[Path]:
    """A scratch directory `nobody` can reach (pytest's tmp_path is under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="smewizard-salearn-"))
    os.chmod(path, 0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sa_learn(work: Path) -> list[str]:
    """argv prefix running sa-learn unprivileged with its home and db in `work`."""
    program = need_program("sa-learn")
    home = work / "home"
    home.mkdir(mode=0o777)
    os.chmod(home, 0o777)
    prefix = ["env", f"HOME={home}", program]
    if os.geteuid() == 0:
        need_program("setpriv")
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *prefix]
    return prefix


def run(host: LocalHost, argv: list[str]):
    return host.run(argv, timeout=300)


def test_empty_db_reads_as_no_data(work, sa_learn):
    host = LocalHost(None)
    result = run(host, [*sa_learn, "--dbpath", str(work / "empty" / "bayes"), "--dump", "magic"])
    assert result.returncode == 2
    reading = read_dump_result(result.returncode, result.stdout, result.stderr)
    assert reading.state is BayesState.NO_DATA


def test_trained_db_is_read_correctly(work, sa_learn):
    host = LocalHost(None)
    mail = work / "mail"
    write_messages(mail / "spam", "spam", SPAM_WORDS, BAYES_MIN_MESSAGES)
    write_messages(mail / "ham", "ham", HAM_WORDS, BAYES_MIN_MESSAGES + 10)
    for folder in (mail, mail / "spam", mail / "ham"):
        os.chmod(folder, 0o755)
    db = str(work / "db" / "bayes")
    (work / "db").mkdir()
    os.chmod(work / "db", 0o777)
    for kind in ("spam", "ham"):
        learned = run(host, [*sa_learn, "--dbpath", db, f"--{kind}", str(mail / kind)])
        assert learned.ok, learned.stderr
    result = run(host, [*sa_learn, "--dbpath", db, "--dump", "magic"])
    assert result.ok
    reading = read_dump_result(result.returncode, result.stdout, result.stderr)
    assert reading.magic is not None
    assert (reading.magic.nspam, reading.magic.nham) == (BAYES_MIN_MESSAGES, BAYES_MIN_MESSAGES + 10)
    assert reading.magic.ntokens > 100
    # 200/210 messages: active, but far below the guide's well-trained token figures
    assert reading.state is BayesState.LEARNING
