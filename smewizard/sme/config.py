"""A typed view of the SME settings the wizard relies on, read from the e-smith dbs."""

from __future__ import annotations

from dataclasses import dataclass, field

from smewizard.sme.db import Db, DbProblem, read_db

USERS_HOME = "/home/e-smith/files/users"


@dataclass(frozen=True)
class SmeUser:
    name: str
    props: dict[str, str] = field(default_factory=dict)

    @property
    def maildir(self) -> str:
        return f"{USERS_HOME}/{self.name}/Maildir"


@dataclass(frozen=True)
class SmeConfig:
    """What SME knows about itself. Built once per probe from the three dbs."""

    configuration: Db
    domains_db: Db
    accounts: Db

    @classmethod
    def load(cls, host) -> SmeConfig:
        return cls(
            configuration=read_db(host, "configuration"),
            domains_db=read_db(host, "domains"),
            accounts=read_db(host, "accounts"),
        )

    # -- names
    @property
    def domain_name(self) -> str | None:
        rec = self.configuration.get("DomainName")
        return rec.type.strip().lower() if rec and rec.type.strip() else None

    @property
    def system_name(self) -> str | None:
        rec = self.configuration.get("SystemName")
        return rec.type.strip().lower() if rec and rec.type.strip() else None

    @property
    def fqdn(self) -> str | None:
        """SystemName.DomainName, the name the server should announce and its PTR should show."""
        if self.system_name and self.domain_name:
            return f"{self.system_name}.{self.domain_name}"
        return None

    @property
    def hosted_domains(self) -> list[str]:
        """Every domain SME receives and sends mail for (domains db, type `domain`),
        primary domain first."""
        names = {r.key.lower() for r in self.domains_db.of_type("domain")}
        if self.domain_name:
            names.add(self.domain_name)
        primary = [self.domain_name] if self.domain_name in names else []
        return primary + sorted(n for n in names if n != self.domain_name)

    # -- services
    def service(self, key: str) -> dict[str, str]:
        rec = self.configuration.get(key)
        return dict(rec.props) if rec else {}

    @property
    def qpsmtpd(self) -> dict[str, str]:
        return self.service("qpsmtpd")

    @property
    def qmail(self) -> dict[str, str]:
        return self.service("qmail")

    @property
    def spamassassin(self) -> dict[str, str]:
        return self.service("spamassassin")

    @property
    def smtpd(self) -> dict[str, str]:
        return self.service("smtpd")

    @property
    def smarthost(self) -> str | None:
        """SMTPSmartHost, a plain configuration key (verified in SME 7/8 sources)."""
        rec = self.configuration.get("SMTPSmartHost")
        value = rec.type.strip() if rec else ""
        return value or None

    @property
    def external_ip(self) -> str | None:
        rec = self.configuration.get("ExternalIP")
        value = rec.type.strip() if rec else ""
        return value or None

    @property
    def system_mode(self) -> str | None:
        rec = self.configuration.get("SystemMode")
        return rec.type.strip() if rec else None

    # -- accounts
    @property
    def users(self) -> list[SmeUser]:
        return [SmeUser(r.key, dict(r.props)) for r in self.accounts.of_type("user")]

    def pseudonym_target(self, name: str) -> str | None:
        rec = self.accounts.get(name)
        if rec and rec.type == "pseudonym":
            return rec.props.get("Account")
        return None

    @property
    def problems(self) -> list[tuple[str, DbProblem]]:
        return [(db.name, p) for db in (self.configuration, self.domains_db, self.accounts) for p in db.problems]
