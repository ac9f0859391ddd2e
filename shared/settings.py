"""Settings common to every service, read from `MTP_*` environment variables."""

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """What every service needs to reach the broker, the database and the directory."""

    model_config = SettingsConfigDict(env_prefix="MTP_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma-separated.")
    database_url: str = Field("postgresql://postgres@127.0.0.1:5432/mtp", description="PostgreSQL DSN.")
    directory: Path | None = Field(
        None,
        description="The directory YAML file: who is who, their API key hashes and webhook secrets. "
        "Required: a service without one refuses to start.",
    )
    allow_example_directory: bool = Field(
        False,
        description="Start even though the directory holds the repository's published example keys or "
        "secrets. For a trial on one machine only; never where anything else can reach the services.",
    )
    topic_namespace: str = Field("", description="Prefix for topic and consumer-group names (tests).")
    topic_partitions: int = Field(
        12,
        ge=1,
        description="Partitions for topics this system creates (up to as many instances of a service share the work).",
    )
    kafka_fetch_max_wait_ms: int = Field(20, ge=2, description="Consumer poll wait; keep small on Tansu.")
    kafka_commit_interval_seconds: float = Field(
        1.0,
        gt=0,
        description="How often a consumer commits the offsets it has applied. Events applied since the "
        "last commit are read again after a crash and skipped as repeats.",
    )
    kafka_session_timeout_ms: int = Field(10_000, ge=1_000, description="Consumer group session timeout.")
    kafka_linger_ms: int = Field(
        0,
        ge=0,
        description="Producer batching delay. Relays hand the producer every row they read at once, so "
        "those rows travel together anyway; a delay would only add latency.",
    )
    kafka_enable_idempotence: bool = Field(False, description="Idempotent producer (real Kafka only).")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="How every Kafka client (services and command line) connects: SSL encrypts and checks "
        "the broker's certificate; SASL_SSL also signs in. PLAINTEXT only on a network nothing else reaches.",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism (with SASL_SSL or SASL_PLAINTEXT)."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(
        None, description="CA certificate(s) the broker's certificate must chain to (default: the system's)."
    )
    kafka_ssl_certfile: Path | None = Field(
        None, description="Client certificate, for brokers that require one."
    )
    kafka_ssl_keyfile: Path | None = Field(None, description="The client certificate's private key.")
    topic_replication_factor: int = Field(
        1, ge=1, description="Replicas of each topic `mtp create-topics` creates (3 on a production cluster)."
    )
    topic_min_insync_replicas: int | None = Field(
        None, ge=1, description="min.insync.replicas of the topics created (2 with three replicas)."
    )
    topic_retention_hours: float | None = Field(
        None,
        gt=0,
        description="retention.ms of the topics created, in hours (default: the broker's). Every event is "
        "also in PostgreSQL: topics need to keep them only until every consumer has read them.",
    )
    db_pool_max: int = Field(10, ge=2, description="Largest database pool size per process.")
    log_level: str = Field("info", description="debug, info, warning or error.")
    http_host: str = Field("127.0.0.1", description="Interface the service's HTTP server listens on.")
    retention_interval_seconds: float = Field(
        3600,
        gt=0,
        description="How often a service removes rows past their retention period (directory `retention`).",
    )

    @model_validator(mode="after")
    def _kafka_sign_in_complete(self) -> Self:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"MTP_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs MTP_KAFKA_SASL_USERNAME "
                "and MTP_KAFKA_SASL_PASSWORD"
            )
        if (
            self.topic_min_insync_replicas is not None
            and self.topic_min_insync_replicas > self.topic_replication_factor
        ):
            raise ValueError("MTP_TOPIC_MIN_INSYNC_REPLICAS cannot exceed MTP_TOPIC_REPLICATION_FACTOR")
        return self
