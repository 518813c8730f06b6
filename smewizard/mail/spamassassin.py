"""SpamAssassin pieces the wizard reads and validates (guide Parts 6-9): `sa-learn --dump magic`
output, the Bayes verdict, TagLevel/RejectLevel validation and envelope blacklist entries.
Pure functions, no I/O."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from smewizard import validate
from smewizard.validate import InvalidValue

# SpamAssassin ignores Bayes until it has learnt this many of each (bayes_min_spam_num /
# bayes_min_ham_num, default 200).
BAYES_MIN_MESSAGES = 200
# The guide's "well trained": 20,000+ spam tokens and 50,000+ ham tokens (guide Part 6).
# `--dump magic` reports one token total, so we compare it with the sum.
GUIDE_SPAM_TOKENS = 20_000
GUIDE_HAM_TOKENS = 50_000
GUIDE_TOTAL_TOKENS = GUIDE_SPAM_TOKENS + GUIDE_HAM_TOKENS
# Below this RejectLevel, an untrained filter rejects real mail at SMTP time (guide Part 6
# recommends 10-15 with a well-trained Bayes).
SAFE_REJECT_UNTRAINED = 8.0
THRESHOLD_MIN, THRESHOLD_MAX = 0.0, 100.0

EMPTY_DB_MESSAGE = "Bayes dump returned an error"
_MAGIC_LINE = re.compile(
    r"^\s*[-\d.]+\s+\d+\s+(?P<value>-?\d+)\s+\d+\s+non-token data:\s*(?P<name>.+?)\s*$"
)


@dataclass(frozen=True)
class BayesMagic:
    nspam: int
    nham: int
    ntokens: int
    values: dict[str, int]


class BayesState(enum.StrEnum):
    NO_DATA = "no-data"  # empty or missing db (sa-learn exits 2 with EMPTY_DB_MESSAGE)
    INACTIVE = "inactive"  # fewer than 200 spam or ham learnt: SpamAssassin does not use it
    LEARNING = "learning"  # active but below the guide's well-trained figures
    WELL_TRAINED = "well-trained"
    UNKNOWN = "unknown"  # sa-learn missing, failed otherwise, or output not understood


def parse_dump_magic(text: str) -> BayesMagic | None:
    """Parse `sa-learn --dump magic`; None when nspam/nham/ntokens are not all there.

    Lines look like `0.000          0        200          0  non-token data: nspam`: the value
    is the third column."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        match = _MAGIC_LINE.match(line)
        if match:
            values[match["name"]] = int(match["value"])
    if not all(k in values for k in ("nspam", "nham", "ntokens")):
        return None
    return BayesMagic(values["nspam"], values["nham"], values["ntokens"], values)


@dataclass(frozen=True)
class BayesReading:
    state: BayesState
    magic: BayesMagic | None = None
    detail: str = ""


def read_dump_result(returncode: int, stdout: str, stderr: str) -> BayesReading:
    """Turn an `sa-learn --dump magic` run into a reading. An empty db is "no data", not an
    error: sa-learn prints nothing, exits 2 and says EMPTY_DB_MESSAGE on stderr."""
    magic = parse_dump_magic(stdout)
    if returncode == 0 and magic is not None:
        return BayesReading(bayes_verdict(magic), magic)
    if EMPTY_DB_MESSAGE in stderr or EMPTY_DB_MESSAGE in stdout:
        return BayesReading(BayesState.NO_DATA, None, "the Bayes database is empty or missing")
    tail = (stderr or stdout).strip().splitlines()[-1:] or [""]
    return BayesReading(BayesState.UNKNOWN, None, f"sa-learn exited {returncode}: {tail[0][:200]}")


def bayes_verdict(magic: BayesMagic) -> BayesState:
    if magic.nspam == 0 and magic.nham == 0:
        return BayesState.NO_DATA
    if magic.nspam < BAYES_MIN_MESSAGES or magic.nham < BAYES_MIN_MESSAGES:
        return BayesState.INACTIVE
    if magic.ntokens < GUIDE_TOTAL_TOKENS:
        return BayesState.LEARNING
    return BayesState.WELL_TRAINED


# ------------------------------------------------------------------ thresholds
@dataclass(frozen=True)
class Thresholds:
    tag: float
    reject: float  # 0 = never reject (SME)

    @property
    def rejects(self) -> bool:
        return self.reject > 0


def parse_threshold(value: str, what: str) -> float:
    """One threshold as typed or stored; InvalidValue with a message saying what is wrong."""
    text = str(value).strip()
    if not text:
        raise InvalidValue(f"{what} is empty: enter a number such as 5 or 3.3")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", text):
        raise InvalidValue(
            f"{what} {text!r} is not a plain number: use digits with at most two decimals "
            "and a dot (e.g. 3.3), no sign, comma or unit"
        )
    return validate.number(text, what, THRESHOLD_MIN, THRESHOLD_MAX)


def validate_thresholds(tag: str, reject: str) -> Thresholds:
    """TagLevel and RejectLevel as the admin entered them. RejectLevel 0 means never reject;
    otherwise it must be above TagLevel (mail is tagged before it is refused)."""
    tag_value = parse_threshold(tag, "TagLevel")
    reject_value = parse_threshold(reject, "RejectLevel")
    if tag_value <= 0:
        raise InvalidValue("TagLevel must be above 0: every message would be tagged as spam")
    if reject_value and reject_value <= tag_value:
        raise InvalidValue(
            f"RejectLevel {reject_value:g} must be above TagLevel {tag_value:g} "
            "(or 0 to never reject)"
        )
    return Thresholds(tag_value, reject_value)


def format_threshold(value: float) -> str:
    return f"{value:g}"


# SME's Sensitivity presets (SME 7 source, and the Koozali wiki's table): the tag level used
# when Sensitivity is not "custom"; none of them rejects.
SENSITIVITY_TAG = {"veryhigh": 2.0, "high": 3.0, "medium": 5.0, "low": 7.0, "verylow": 9.0}


# ------------------------------------------------------------------ envelope blacklist
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{}~.-]{1,64}$")


def envelope_entry(value: str) -> str:
    """A badmailfrom entry: `@domain` (the whole domain) or `user@domain`. Lower-cased domain;
    nothing that could break a db record or a command line."""
    text = str(value).strip()
    if not text or "@" not in text:
        raise InvalidValue(
            f"{text!r} is not an envelope sender: use @domain.example to block a domain or "
            "user@domain.example for one address"
        )
    local, _, domain = text.rpartition("@")
    domain = validate.domain_name(domain)
    if local and (not _LOCAL_PART.match(local) or local.startswith((".", "-"))):
        raise InvalidValue(f"{text!r}: the part before @ has characters an address cannot have")
    entry = f"{local}@{domain}"
    validate.db_value(entry)
    return entry
