"""Explain a pasted Authentication-Results header (RFC 8601) against what the wizard expects.

The admin sends a message to Gmail, mail-tester.com or any mailbox, opens the raw source and
pastes the receiver's `Authentication-Results:` header (guide Part 10). Parsing is done by the
`authres` library (the dkimpy authors' RFC 8601 parser: comments, folding, unknown methods);
here we only judge each result: dkim (signing domain `header.d`/`header.i`, selector
`header.s` against the selector the server publishes), spf (`smtp.mailfrom`), dmarc
(`header.from`, policy comment) and the alignment of the DKIM and SPF domains with the From
domain, which is what DMARC actually tests.

Alignment here is "same domain" (strict) or "one is a subdomain of the other" (relaxed). True
relaxed alignment compares organizational domains from the Public Suffix List; for the hosted
domains of one SME server the subdomain rule gives the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import authres

from smewizard.model import Status

HEADER_NAME = re.compile(r"^\s*(?:ARC-)?Authentication-Results\s*:", re.IGNORECASE | re.MULTILINE)
PASTE_LIMIT = 64_000

_RESULT_STATUS = {
    "pass": Status.PASS,
    "none": Status.WARN,
    "neutral": Status.WARN,
    "softfail": Status.WARN,
    "policy": Status.WARN,
    "fail": Status.FAIL,
    "permerror": Status.FAIL,
    "temperror": Status.UNKNOWN,
}


class UnreadableHeader(ValueError):
    """The pasted text holds no Authentication-Results header we can parse."""


@dataclass(frozen=True)
class Expected:
    """What this server should produce: its hosted domains and each one's DKIM selector."""

    domains: tuple[str, ...] = ()
    selectors: dict[str, str] = field(default_factory=dict)  # domain -> published selector

    def hosted(self, domain: str | None) -> bool:
        return bool(domain) and domain.lower() in {d.lower() for d in self.domains}


@dataclass(frozen=True)
class Explained:
    """One method's result, judged: a status, a one-line summary and the reasons."""

    method: str
    result: str
    status: Status
    summary: str
    details: tuple[str, ...] = ()
    domain: str | None = None  # the domain the result is about (header.d, mailfrom, header.from)
    aligned: bool | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method, "result": self.result, "status": str(self.status),
            "summary": self.summary, "details": list(self.details), "domain": self.domain,
            "aligned": self.aligned,
        }


@dataclass(frozen=True)
class Explanation:
    """The whole header: who checked (authserv-id), the From domain, every result judged."""

    authserv_id: str
    from_domain: str | None
    results: tuple[Explained, ...]

    @property
    def status(self) -> Status:
        relevant = [r.status for r in self.results if r.method in ("dkim", "spf", "dmarc")]
        return max(relevant, key=lambda s: s.severity, default=Status.UNKNOWN)

    def to_json(self) -> dict[str, object]:
        return {
            "authserv_id": self.authserv_id,
            "from_domain": self.from_domain,
            "status": str(self.status),
            "results": [r.to_json() for r in self.results],
        }


# ---------------------------------------------------------------- parsing
def split_headers(text: str) -> list[str]:
    """Each Authentication-Results header in a pasted block, unfolded, field name included.
    A paste without the field name is taken as one header's value."""
    if len(text) > PASTE_LIMIT:
        raise UnreadableHeader(f"the pasted text is longer than {PASTE_LIMIT} characters")
    starts = [m.start() for m in HEADER_NAME.finditer(text)]
    if not starts:
        body = _unfold(text.strip())
        if re.match(r"^[\w.-]+\s*=", body):  # results without the authserv-id in front
            body = "unknown; " + body
        return [f"Authentication-Results: {body}"] if body else []
    out = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        block = _only_this_header(text[start:end])
        if block.lower().lstrip().startswith("arc-"):
            continue  # ARC copies repeat an earlier hop's results with an i= tag
        out.append(_unfold(block))
    return out


def _only_this_header(block: str) -> str:
    """Stop at the next header field (a line that starts a new `Name:` without folding)."""
    lines = block.splitlines()
    kept = lines[:1]
    for line in lines[1:]:
        if line[:1] in (" ", "\t") or not line.strip():
            kept.append(line)
        elif re.match(r"^[!-9;-~]+:", line):
            break
        else:
            kept.append(" " + line)  # a paste that lost its folding whitespace
    return "\n".join(kept)


def _unfold(text: str) -> str:
    return re.sub(r"\s*\r?\n\s*", " ", text).strip()


def parse(text: str) -> list[authres.AuthenticationResultsHeader]:
    """Every readable header in the paste. Raises UnreadableHeader when none is."""
    parsed, errors = [], []
    for header in split_headers(text):
        try:
            parsed.append(authres.AuthenticationResultsHeader.parse(header))
        except Exception as exc:  # noqa: BLE001 - authres raises its own SyntaxError family
            errors.append(str(exc) or type(exc).__name__)
    if not parsed:
        reason = f": {errors[0]}" if errors else ""
        raise UnreadableHeader(
            "no Authentication-Results header could be read" + reason
            + ". Paste the whole header, starting with `Authentication-Results:`."
        )
    return parsed


# ---------------------------------------------------------------- judging
def explain(text: str, expected: Expected) -> Explanation:
    """Judge the first readable header (the receiver's own, topmost one)."""
    header = parse(text)[0]
    raw = split_headers(text)[0]
    props = [(r, _props(r)) for r in header.results]
    from_domain = next(
        (_domain_of(p["header.from"]) for r, p in props if r.method == "dmarc" and p.get("header.from")), None
    )
    results = tuple(_judge(r.method, (r.result or "").lower(), p, _comment(r, raw), from_domain, expected)
                    for r, p in props)
    return Explanation(str(header.authserv_id), from_domain, results)


def _props(result) -> dict[str, str]:
    return {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}


def _comment(result, raw: str) -> str:
    """The receiver's comment on the result. authres keeps some comments and drops the one
    right after the result (`dmarc=pass (p=REJECT …)`), so that one is read from the raw text."""
    kept = result.result_comment or result.reason_comment or result.reason
    if kept:
        return str(kept)
    found = re.search(rf"\b{re.escape(result.method)}\s*=\s*{re.escape(result.result or '')}\s*\(([^)]*)\)",
                      raw, re.IGNORECASE)
    return found.group(1) if found else ""


def _domain_of(value: str) -> str:
    value = value.strip().strip("<>").rstrip(".")
    return value.rsplit("@", 1)[-1].lower()


def aligned(domain: str | None, from_domain: str | None) -> tuple[bool, bool]:
    """(strict, relaxed) alignment of `domain` with the From domain."""
    if not domain or not from_domain:
        return False, False
    a, b = domain.lower(), from_domain.lower()
    strict = a == b
    return strict, strict or a.endswith("." + b) or b.endswith("." + a)


def _judge(method: str, result: str, props: dict[str, str], comment: str, from_domain: str | None,
           expected: Expected) -> Explained:
    status = _RESULT_STATUS.get(result, Status.INFO)
    if method == "dkim":
        return _judge_dkim(result, status, props, comment, from_domain, expected)
    if method == "spf":
        return _judge_spf(result, status, props, from_domain, expected)
    if method == "dmarc":
        return _judge_dmarc(result, status, props, comment, expected)
    return Explained(method, result, Status.INFO, f"{method}={result}",
                     ("Not one of the checks this wizard configures; shown for completeness.",))


def _judge_dkim(result, status, props, comment, from_domain, expected) -> Explained:
    domain = _domain_of(props.get("header.d") or props.get("header.i") or "") or None
    selector = props.get("header.s")
    strict, relaxed = aligned(domain, from_domain)
    details = []
    if comment:
        details.append(f"The receiver says: {comment}.")
    want = expected.selectors.get(domain or "")
    if result == "pass":
        summary = f"DKIM signature of {domain or 'an unnamed domain'} verified"
        if selector and want and selector != want:
            status = Status.WARN
            details.append(f"Signed with selector {selector!r}, but the wizard expects {want!r} for {domain}: "
                           "a key from before a rotation, or another server signing (guide Part 2).")
        elif selector and want:
            details.append(f"Selector {selector!r} is the one published for {domain}.")
        if domain and not expected.hosted(domain):
            details.append(f"{domain} is not a domain hosted on this server: another system signed it.")
        if from_domain and not relaxed:
            status = Status.WARN
            details.append(f"{domain} is not aligned with the From domain {from_domain}, so DMARC cannot use "
                           "this signature (guide Part 3).")
    else:
        summary = f"DKIM {result} for {domain or 'the message'}"
        details.append(
            "none: the message carried no signature. On SME this means qpsmtpd did not sign: "
            "DKIMSigning disabled, no key for the sender's domain, or the message was not sent "
            "through the server (guide Part 2)." if result == "none" else
            "The signature did not verify: the public key in DNS does not match the server's private "
            "key (wrong selector published, key regenerated, record truncated), or the message was "
            "changed after signing (guide Part 2)." if result in ("fail", "permerror") else
            "The receiver could not fetch the key (a DNS failure on its side); send again later."
            if result == "temperror" else f"Result {result!r}."
        )
    return Explained("dkim", result, status, summary, tuple(details), domain, relaxed if from_domain else None)


def _judge_spf(result, status, props, from_domain, expected) -> Explained:
    mailfrom = props.get("smtp.mailfrom") or props.get("smtp.helo") or ""
    domain = _domain_of(mailfrom) or None
    strict, relaxed = aligned(domain, from_domain)
    details = []
    if result == "pass":
        summary = f"SPF passed for {domain or 'the envelope sender'}"
        if from_domain and not relaxed:
            status = Status.WARN
            details.append(f"The envelope sender {domain} is not aligned with the From domain {from_domain}: "
                           "SPF cannot make DMARC pass (guide Part 3).")
    else:
        summary = f"SPF {result} for {domain or 'the envelope sender'}"
        details.append(
            "The sending IP is not in the domain's SPF record: add the server's public IP and, if mail "
            "goes through a smarthost, the relay's IPs (guide Part 1)." if result in ("softfail", "fail") else
            f"{domain} publishes no SPF record (guide Part 1)." if result == "none" else
            "The SPF record is broken (syntax, or more than 10 DNS lookups) (guide Part 1)."
            if result == "permerror" else f"Result {result!r}."
        )
    if domain and expected.domains and not expected.hosted(domain) and result == "pass":
        details.append(f"{domain} is not hosted here: the envelope sender was rewritten (a forwarder or "
                       "mailing list), so this is not the server's own SPF.")
    return Explained("spf", result, status, summary, tuple(details), domain, relaxed if from_domain else None)


def _judge_dmarc(result, status, props, comment, expected) -> Explained:
    domain = _domain_of(props.get("header.from", "")) or None
    details = []
    policy = re.search(r"\bp=(\w+)", comment or "", re.IGNORECASE)
    if policy:
        details.append(f"The domain's published policy as the receiver saw it: p={policy.group(1).lower()}.")
    if result == "pass":
        summary = f"DMARC passed for {domain}"
        details.append("At least one of DKIM and SPF passed for a domain aligned with From (guide Part 3).")
        if policy and policy.group(1).lower() == "none":
            details.append("p=none only monitors; move to quarantine/reject once reports are clean (guide Part 3).")
    elif result == "none":
        summary = f"No DMARC record for {domain}"
        details.append("Publish one at _dmarc.<domain>, starting with p=none and a rua address (guide Part 3).")
    else:
        summary = f"DMARC {result} for {domain}"
        details.append("Neither an aligned DKIM signature nor an aligned SPF pass: see the dkim and spf lines "
                       "above (guide Part 3).")
    if domain and expected.domains and not expected.hosted(domain):
        details.append(f"{domain} is not hosted on this server.")
    return Explained("dmarc", result, status, summary, tuple(details), domain, None)
