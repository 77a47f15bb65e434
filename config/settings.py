"""One frozen settings object, parsed from the environment.

The embedded default needs no variable at all: everything it writes lives under ``data_dir``
(``LIAISON_DATA_DIR``, default ``./instance``), including a secret key it generates for itself.
Production mode (``LIAISON_ENV=production``) refuses to start without real secrets.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting is missing, malformed or unsafe; the message says which and why."""


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Every knob of a Liaison instance. Field ``foo_bar`` is read from ``LIAISON_FOO_BAR``."""

    env: str = "development"
    data_dir: Path = Path("instance")
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:5000"
    secure_cookies: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    invitation_hours: int = 72
    verification_lead_days: int = 14  # e-mail the verification link this long before due
    verification_link_days: int = 30  # and keep that link valid this long
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    default_locale: str = "en"
    search_backend: str = "embedded"
    meili_url: str = ""
    meili_key: str = ""
    meili_index: str = "organisations"
    search_change_retention_days: int = 7  # search changes kept this long for indexes to catch up
    smtp_host: str = ""
    smtp_port: int = 8025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Liaison <no-reply@liaison.invalid>"
    mail_sink: bool = True
    run_scheduler: bool = True
    blob_max_bytes: int = 100 * 1024 * 1024
    message_default_days: int = 30
    message_max_days: int = 30
    messages_per_minute: int = 60
    key_lookups_per_minute: int = 300
    searches_per_minute: int = 120  # anonymous: per client address; signed in: per person
    hsds_requests_per_minute: int = 120  # the same, for the HSDS API
    trusted_proxies: int = 0  # X-Forwarded-For hops to believe (1 behind the deploy kit's nginx)
    api_token_hours: int = 168
    attestation_root_public_key: str = ""  # b64 Ed25519 key of the secretariat (browser client)
    referral_ack_high_hours: int = 4  # a high-urgency referral is acknowledged within this
    referral_ack_normal_working_days: int = 2  # a normal one within this (Mon-Fri, Brussels)
    referral_escalate_after_periods: int = 1  # escalate this many service levels after the reminder
    log_format: str = "text"  # text, or json: one JSON object per line (with the request id)
    metrics_token: str = ""  # bearer token for /metrics; empty: /metrics answers 404
    log_level: str = "INFO"
    job_lease_seconds: int = 60  # a job claim or mail claim not renewed for this long is taken over
    mail_retry_seconds: int = 60  # first back-off after a failed delivery; doubles each attempt
    mail_max_attempts: int = 8  # after this many failed deliveries an e-mail is marked failed
    mail_send_in_web: bool = True  # outside production the web process sends right after commit
    key_log_signing_key: str = ""  # base64url Ed25519 seed; empty: created once in the database
    blob_store: str = "auto"  # auto (database on PostgreSQL, else filesystem), filesystem, database
    web_hosts: int = 1  # how many hosts serve the web app (guard rail for per-host state)

    @property
    def production(self) -> bool:
        """True when the instance faces real users: secrets must be supplied, not generated."""
        return self.env == "production"

    @property
    def sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def blob_store_kind(self) -> str:
        """Where new attachments go: ``database`` or ``filesystem`` (``auto`` resolved)."""
        if self.blob_store == "auto":
            return "filesystem" if self.sqlite else "database"
        return self.blob_store

    def path(self, *parts: str) -> Path:
        """A path under the data directory, created on first use."""
        target = self.data_dir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests build their settings this way)."""
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_WEAK_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development"}


def _coerce(name: str, kind: Any, raw: str) -> Any:
    if kind in ("bool", bool):
        return _parse_bool(name, raw)
    if kind in ("int", int):
        return _parse_int(name, raw)
    if kind in ("Path", Path):
        return Path(raw)
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read ``LIAISON_*`` variables, reject unknown ones, fill in the embedded defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("LIAISON_"):
            continue
        name = key.removeprefix("LIAISON_").lower()
        if name.startswith("test_"):
            continue  # LIAISON_TEST_* belong to the test suite, not to an instance
        if name not in _FIELDS:
            raise ConfigError(f"unknown setting {key}; see the configuration table in README.md")
        values[name] = _coerce(key, _FIELDS[name].type, raw)
    values.update(overrides)
    settings = Settings(**values)
    _check_choices(settings)
    _check_referral_levels(settings)
    _check_shared_state(settings)
    data_dir = settings.data_dir.resolve()
    changes: dict[str, Any] = {"data_dir": data_dir}
    if not settings.database_url:
        if settings.production:
            raise ConfigError("LIAISON_DATABASE_URL is required in production")
        changes["database_url"] = f"sqlite:///{data_dir / 'liaison.db'}"
    if settings.secret_key.strip().lower() in _WEAK_SECRETS or len(settings.secret_key) < 32:
        if settings.production:
            raise ConfigError(
                "LIAISON_SECRET_KEY is missing or weak: set at least 32 random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if settings.secret_key:
            raise ConfigError("LIAISON_SECRET_KEY must be at least 32 characters")
        changes["secret_key"] = _instance_secret(data_dir)
    settings = dataclasses.replace(settings, **changes)
    if settings.production:
        _check_production(settings)
    return settings


def _check_production(settings: Settings) -> None:
    """Refuse settings that are fine on a laptop and unsafe for real users, naming the setting."""
    if settings.sqlite:
        raise ConfigError(
            "LIAISON_DATABASE_URL must be PostgreSQL in production, not SQLite: SQLite serves one "
            "host only and is not backed up with the database"
        )
    base = urlsplit(settings.base_url)
    if base.scheme != "https" or not base.hostname:
        raise ConfigError(
            f"LIAISON_BASE_URL must be the public https:// address in production, not "
            f"{settings.base_url!r}: links in e-mails and cookies depend on it"
        )
    if _is_loopback(base.hostname):
        raise ConfigError(
            f"LIAISON_BASE_URL points at this machine ({base.hostname}) in production: links in "
            "e-mails would lead nowhere; set the public address"
        )
    if not settings.secure_cookies:
        raise ConfigError(
            "LIAISON_SECURE_COOKIES must stay true in production: session cookies must only "
            "travel over HTTPS"
        )
    if not settings.smtp_host:
        raise ConfigError(
            "LIAISON_SMTP_HOST is required in production: without it no notification, "
            "invitation or password e-mail leaves the machine"
        )


def _is_loopback(host: str) -> bool:
    """True for localhost names and loopback or unspecified addresses."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _check_choices(settings: Settings) -> None:
    """Settings that take one of a few words."""
    if settings.env not in {"development", "production", "test"}:
        raise ConfigError("LIAISON_ENV must be development, production or test")
    if settings.search_backend not in {"embedded", "meilisearch"}:
        raise ConfigError("LIAISON_SEARCH_BACKEND must be embedded or meilisearch")
    if settings.log_format not in {"text", "json"}:
        raise ConfigError("LIAISON_LOG_FORMAT must be text or json")
    if settings.trusted_proxies < 0:
        raise ConfigError("LIAISON_TRUSTED_PROXIES must be 0 or more (proxy hops to believe)")


def _check_referral_levels(settings: Settings) -> None:
    """Referral service levels are at least an hour and a working day; escalation not negative."""
    if settings.referral_ack_high_hours < 1 or settings.referral_ack_normal_working_days < 1:
        raise ConfigError(
            "LIAISON_REFERRAL_ACK_HIGH_HOURS and LIAISON_REFERRAL_ACK_NORMAL_WORKING_DAYS "
            "must be at least 1"
        )
    if settings.referral_escalate_after_periods < 0:
        raise ConfigError("LIAISON_REFERRAL_ESCALATE_AFTER_PERIODS must be 0 or more")


def _check_shared_state(settings: Settings) -> None:
    """The blob store and the key-log key: valid, and never on one disk when hosts are several."""
    if settings.blob_store not in {"auto", "filesystem", "database"}:
        raise ConfigError("LIAISON_BLOB_STORE must be auto, filesystem or database")
    if settings.search_change_retention_days < 1:
        raise ConfigError("LIAISON_SEARCH_CHANGE_RETENTION_DAYS must be at least 1")
    if settings.web_hosts < 1:
        raise ConfigError("LIAISON_WEB_HOSTS must be at least 1")
    if settings.key_log_signing_key:
        seed = settings.key_log_signing_key.strip()
        try:
            raw = base64.urlsafe_b64decode(seed + "=" * (-len(seed) % 4))
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ConfigError(
                "LIAISON_KEY_LOG_SIGNING_KEY must be the base64url text of a 32-byte seed"
            )
    shared_disk = settings.blob_store == "filesystem" or (
        settings.blob_store == "auto" and settings.database_url.startswith("sqlite")
    )
    if settings.production and settings.web_hosts > 1 and shared_disk:
        raise ConfigError(
            f"LIAISON_WEB_HOSTS={settings.web_hosts} declares several web hosts, but "
            "LIAISON_BLOB_STORE=filesystem keeps each attachment on the disk of the host that "
            "received it: use LIAISON_BLOB_STORE=database (or auto) with PostgreSQL"
        )


def _instance_secret(data_dir: Path) -> str:
    """The embedded default's own secret, generated once and kept beside its database."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
