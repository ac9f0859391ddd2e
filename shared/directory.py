"""The directory (docs/operations.md, "The directory"): who is who, their hashed API keys, endpoints and
timing settings. Its file is read in shared/directory_file.py, and reloaded in shared/live_directory.py."""

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, model_validator
from standardwebhooks.webhooks import Webhook

from shared.contracts.common import AUTHORITY_PATTERN, AuthorityCode, Language

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
OrgKind = Literal["police", "local_authority", "provider", "ops"]

# A signing secret shorter than this is refused: HMAC-SHA256 keys under 192 bits are guessable offline
# from one signed webhook. `mtp keys secret` makes 32 bytes.
MIN_SECRET_BYTES = 24
# An organisation lists at most this many secrets: the one in use and, while rotating, the next.
MAX_SECRETS = 2
# Secrets anyone can read: the Standard Webhooks documentation's test secret.
PUBLISHED_SECRETS = frozenset({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ApiKey(_Strict):
    """An API key, stored only as the SHA-256 of the key."""

    id: Slug
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


PersonRole = Literal["coordinator", "manager", "worker", "ops"]


class Person(_Strict):
    """Someone who signs in to the web pages for their organisation. The directory holds only the
    argon2id hash of the one-time password `mtp people add` printed; the password they choose at their
    first sign-in is kept by intake."""

    id: Slug
    name: str = Field(min_length=1, max_length=100)
    role: PersonRole
    password_argon2: Annotated[str, Field(pattern=r"^\$argon2id\$")]


class RepeatMissing(_Strict):
    """Episodes within a period that make a child a repeat missing child."""

    count: int = Field(3, ge=2)
    within_days: int = Field(90, ge=1)


class SaidAgain(_Strict):
    """Interviews within a period in which a child gives the same reason for going (docs/domain.md rule 32)."""

    count: int = Field(3, ge=2)
    within_days: int = Field(180, ge=1)


class TimingSettings(_Strict):
    """Thresholds that differ between areas: data, not code. Durations in hours."""

    interview_window_hours: float = Field(72, gt=0)
    acceptance_reminder_hours: float = Field(24, gt=0)
    offer_warning_hours: float = Field(48, gt=0)
    acceptance_timeout_hours: float = Field(4, gt=0)
    repeat_missing: RepeatMissing = RepeatMissing()
    long_missing_hours: list[float] | float = Field(default_factory=lambda: [24.0, 72.0, 168.0])
    # The responsible authority's time to answer what a child said in an interview (docs/domain.md
    # rule 31), and to record an NRM decision for an episode with exploitation indicators (rule 34).
    findings_response_days: float = Field(7, gt=0)
    findings_reminder_hours: float = Field(24, gt=0)  # the coordinator is reminded this long before
    # The same reason given in this many interviews within so many days is a signal (rule 32).
    said_again: SaidAgain = SaidAgain()

    @property
    def long_missing_thresholds(self) -> list[float]:
        """Long-missing alert thresholds in hours, ascending."""
        values = self.long_missing_hours
        return sorted(values if isinstance(values, list) else [values])

    @model_validator(mode="after")
    def _warnings_before_the_breach(self) -> Self:
        window = self.interview_window_hours
        for name in ("acceptance_reminder_hours", "offer_warning_hours"):
            if getattr(self, name) >= window:
                raise ValueError(
                    f"{name} ({getattr(self, name):g}) must come before the breach "
                    f"(interview_window_hours {window:g})"
                )
        return self


class RetentionSettings(_Strict):
    """How long rows are kept once they are no longer needed, in days; null keeps them for ever. Each
    service removes its own, hourly (shared/retention.py)."""

    # Outbox rows once published to Kafka: kept a while to show what was sent when.
    published_outbox_days: float | None = Field(7, gt=0)
    # Webhooks (bodies name children) and their attempts, once delivered. Failed and parked ones stay
    # until an operator deals with them. A webhook sent again after this long is sent again in full.
    delivered_webhook_days: float | None = Field(90, gt=0)
    # The ids of applied events, kept to ignore redeliveries (which come within seconds, or with a
    # dead-letter replay within days).
    inbox_days: float | None = Field(30, gt=0)
    # The audit trail: the council's records policy decides; kept until then, and at least a year
    # (intake's database role cannot remove younger records).
    audit_days: float | None = Field(None, ge=365)


class TimingOverrides(_Strict):
    """An authority's own thresholds (docs/domain.md rule 28): any of TimingSettings' keys, over the defaults."""

    interview_window_hours: float | None = Field(None, gt=0)
    acceptance_reminder_hours: float | None = Field(None, gt=0)
    offer_warning_hours: float | None = Field(None, gt=0)
    acceptance_timeout_hours: float | None = Field(None, gt=0)
    repeat_missing: RepeatMissing | None = None
    long_missing_hours: list[float] | float | None = None
    findings_response_days: float | None = Field(None, gt=0)
    findings_reminder_hours: float | None = Field(None, gt=0)
    said_again: SaidAgain | None = None


_AUTHORITY = re.compile(AUTHORITY_PATTERN)


class Organisation(_Strict):
    """A police force, local authority, provider or operations team."""

    id: Slug
    kind: OrgKind
    name: str = Field(min_length=1, max_length=200)
    authority_code: AuthorityCode | None = None
    notify_url: str | None = None
    escalation_url: str | None = None  # a council's senior manager: breaches go here too
    webhook_url: str | None = None
    # Webhook signing secrets, given in one of three ways (newest first; two while rotating):
    # the value itself, a file holding it (a mounted secret), or an environment variable's name.
    webhook_secret: SecretStr | list[SecretStr] | None = None
    webhook_secret_file: Path | list[Path] | None = None
    webhook_secret_env: str | list[str] | None = None
    coordinator_contact: str | None = None
    employer: str | None = None
    covers: list[AuthorityCode] = Field(default_factory=list)
    languages: list[Language] = Field(default_factory=lambda: list[Language](["en"]))
    capacity: int = Field(10, ge=0)
    api_keys: list[ApiKey] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)  # who signs in to the web pages
    settings: TimingOverrides | None = None  # a local authority's own thresholds
    _secrets: list[SecretStr] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _kind_rules(self) -> Self:
        if self.kind == "local_authority" and not self.authority_code:
            raise ValueError("a local_authority needs an authority_code")
        if self.kind == "local_authority" and not (self.notify_url or self.escalation_url):
            raise ValueError(
                "a local_authority needs a notify_url (its coordinator) or an escalation_url: "
                "someone must hear of a breach"
            )
        if self.settings is not None and self.kind != "local_authority":
            raise ValueError("only a local_authority may have settings of its own")
        if self.kind == "provider":
            if not self.covers:
                raise ValueError("a provider needs at least one authority in covers")
            if not self.webhook_url:
                raise ValueError("a provider needs a webhook_url")
        self._secrets = self._read_secrets()
        if (self.webhook_url or self.notify_url or self.escalation_url) and not self._secrets:
            raise ValueError(
                "an organisation that receives webhooks needs a webhook_secret "
                "(or webhook_secret_file, or webhook_secret_env)"
            )
        return self

    def _read_secrets(self) -> list[SecretStr]:
        """The signing secrets from whichever of the three forms was given; never shown in errors."""
        given = [
            name
            for name in ("webhook_secret", "webhook_secret_file", "webhook_secret_env")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise ValueError(f"give one of {', '.join(given)}, not several")
        if not given:
            return []
        secrets: list[SecretStr] = []
        for source in _listed(getattr(self, given[0])):
            if isinstance(source, SecretStr):
                secrets.append(source)
            elif isinstance(source, Path):
                try:
                    secrets.append(SecretStr(source.read_text().strip()))
                except OSError as exc:
                    raise ValueError(
                        f"webhook_secret_file {source}: cannot read it ({exc.strerror})"
                    ) from None
            else:
                value = os.environ.get(source)
                if not value:
                    raise ValueError(f"webhook_secret_env: the environment variable {source} is not set")
                secrets.append(SecretStr(value.strip()))
        if len(secrets) > MAX_SECRETS:
            raise ValueError(f"at most {MAX_SECRETS} webhook secrets: the one in use and the next")
        for secret in secrets:
            _check_secret(secret.get_secret_value())
        return secrets

    @property
    def signing_secrets(self) -> list[str]:
        """The webhook signing secrets, newest first: every webhook is signed with each of them."""
        return [secret.get_secret_value() for secret in self._secrets]

    @property
    def delivery_url(self) -> str | None:
        """Where webhooks to this organisation go."""
        return self.webhook_url or self.notify_url


class Directory(_Strict):
    """Every organisation, indexed for the look-ups the services make."""

    settings: TimingSettings = TimingSettings()
    retention: RetentionSettings = RetentionSettings()
    organisations: list[Organisation]
    _timings: dict[str, TimingSettings] = PrivateAttr(default_factory=dict)  # per authority code

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen: set[str] = set()
        codes: set[str] = set()
        key_ids: set[str] = set()
        key_hashes: dict[str, str] = {}
        for org in self.organisations:
            if org.id in seen:
                raise ValueError(f"duplicate organisation id {org.id!r}")
            seen.add(org.id)
            if org.authority_code:
                if org.authority_code in codes:
                    raise ValueError(f"duplicate authority_code {org.authority_code!r}")
                codes.add(org.authority_code)
            for key in org.api_keys:
                if key.id in key_ids:
                    raise ValueError(f"duplicate api key id {key.id!r}")
                key_ids.add(key.id)
                if key.sha256 in key_hashes:  # one key would let the caller in as either organisation
                    raise ValueError(f"api key {key.id!r} has the same hash as {key_hashes[key.sha256]!r}")
                key_hashes[key.sha256] = key.id
        for org in self.organisations:
            if org.settings is not None and org.authority_code is not None:
                try:
                    self._timings[org.authority_code] = self._merged(org.settings)
                except ValidationError as exc:
                    raise ValueError(f"{org.id}: settings: {exc.errors()[0]['msg']}") from None
        police = {org.id for org in self.organisations if org.kind == "police"}
        for org in self.organisations:
            # An employer that names nothing would make an in-house team look independent to routing.
            if org.employer is not None and org.employer not in police and not _AUTHORITY.match(org.employer):
                raise ValueError(
                    f"{org.id}: employer {org.employer!r} is neither an authority code (like W06000015) "
                    "nor the id of a police force in this directory"
                )
        return self

    def timing_for(self, authority_code: str) -> TimingSettings:
        """The thresholds for children of this responsible authority: its own settings over the defaults."""
        return self._timings.get(authority_code, self.settings)

    def _merged(self, overrides: TimingOverrides) -> TimingSettings:
        return TimingSettings.model_validate(
            {**self.settings.model_dump(), **overrides.model_dump(exclude_none=True)}
        )

    def get(self, org_id: str) -> Organisation | None:
        """Return an organisation by id."""
        return next((org for org in self.organisations if org.id == org_id), None)

    def person(self, org_id: str, person_id: str) -> tuple[Organisation, Person] | None:
        """An organisation's person, by ids."""
        org = self.get(org_id)
        person = next((p for p in org.people if p.id == person_id), None) if org else None
        return (org, person) if org is not None and person is not None else None

    def authority(self, code: str) -> Organisation | None:
        """Return the local authority with this ONS code."""
        return next((org for org in self.organisations if org.authority_code == code), None)

    def of_kind(self, kind: OrgKind) -> Iterator[Organisation]:
        """Every organisation of one kind, in directory order."""
        return (org for org in self.organisations if org.kind == kind)

    def authenticate(self, api_key: str) -> tuple[Organisation, str] | None:
        """Return the organisation and key id for an API key, comparing every hash in constant time."""
        digest = hash_api_key(api_key)
        found: tuple[Organisation, str] | None = None
        for org in self.organisations:
            for key in org.api_keys:
                if hmac.compare_digest(digest, key.sha256):
                    found = (org, key.id)
        return found

    def published_examples(self) -> list[str]:
        """What in this directory is published in the repository's example (keys `example-key-<id>`,
        secrets derived from `example-secret-<id>`): one line per finding, naming no secret."""
        found = []
        example_secrets = {example_webhook_secret(org.id) for org in self.organisations} | PUBLISHED_SECRETS
        for org in self.organisations:
            for key in org.api_keys:
                if hmac.compare_digest(key.sha256, hash_api_key(example_api_key(org.id))):
                    found.append(f"{org.id}: api key {key.id!r} is the published example key")
            if any(secret in example_secrets for secret in org.signing_secrets):
                found.append(f"{org.id}: its webhook secret is a published example secret")
        return found


def example_api_key(org_id: str) -> str:
    """The API key the repository's example directory gives an organisation (never for real use)."""
    return f"example-key-{org_id}"


def example_webhook_secret(org_id: str) -> str:
    """The webhook secret the repository's example directory gives an organisation (never for real use)."""
    return "whsec_" + base64.b64encode(hashlib.sha256(f"example-secret-{org_id}".encode()).digest()).decode()


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_secret(secret: str) -> None:
    """Refuse at start-up what signing would refuse at every delivery, and short secrets."""
    try:
        Webhook(secret)
        raw = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except Exception:  # the library raises binascii.Error and others; the secret is never shown
        raise ValueError("a webhook secret is not a signing secret (whsec_ then base64)") from None
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(
            f"a webhook secret is {len(raw)} bytes; at least {MIN_SECRET_BYTES} are needed (`mtp keys secret` makes 32)"
        )


def hash_api_key(api_key: str) -> str:
    """Return the hex SHA-256 of an API key, as stored in the directory."""
    return hashlib.sha256(api_key.encode()).hexdigest()
