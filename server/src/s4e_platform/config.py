"""Settings from the environment (prefix S4E_, nested with __)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="S4E_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./s4e-data")
    database_url: str | None = None
    broker_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    admin_email: str | None = None
    admin_password: str | None = None
    outbound_allowlist: str = ""
    allow_workspace_creation: bool = False
    # Comma list of "host[:port]" resolvers used for ownership verification (tests point it at loopback).
    dns_nameservers: str = ""
    log_level: str = "INFO"
    # Seconds between publisher polls when no commit notification arrives.
    publisher_interval: float = 0.5
    # Webhook delivery worker threads in this process.
    delivery_concurrency: int = 16
    # Retry schedule override (comma list of seconds) for tests; empty = events.md schedule.
    webhook_retry_schedule: str = ""
    webhook_timeout: float = 15.0
    session_cookie_secure: bool | None = None
    sse_heartbeat_seconds: float = 15.0
    sse_max_seconds: float = 3600.0
    rate_limit_enabled: bool = True
    # Seconds between scheduler steps (profile fires and periodic jobs) on the leader.
    scheduler_interval: float = Field(2.0, gt=0, le=60)
    # Scan task execution (docs/workers.md): in-process executor threads (embedded mode; the default concurrency
    # of `s4e server worker` too), the lease a running task renews, and how long a task may sit `dispatched`
    # without starting before it is released again (default: 60 s embedded, 6 h with a broker backlog).
    executor_concurrency: int = Field(4, ge=1, le=256)
    task_lease_seconds: float = Field(30.0, ge=2.0)
    task_dispatch_timeout_seconds: float | None = None
    # Prefix of the RabbitMQ queue and exchange names (several installations or test runs on one broker).
    queue_prefix: str = ""

    # Derived -------------------------------------------------------------------------------------
    @property
    def is_embedded(self) -> bool:
        return self.database_url is None or self.database_url.startswith("sqlite")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 's4e.db').resolve()}"

    @property
    def mode(self) -> str:
        return "embedded" if self.broker_url is None and self.is_embedded else "scale_out"

    def resolved_secret_key(self) -> str:
        """The server secret: S4E_SECRET_KEY, else one generated once into the data dir (0600)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key

    def allowlist_entries(self) -> list[str]:
        return [e.strip().lower() for e in self.outbound_allowlist.split(",") if e.strip()]

    def dispatch_timeout(self) -> float:
        if self.task_dispatch_timeout_seconds is not None:
            return self.task_dispatch_timeout_seconds
        return 21600.0 if self.broker_url else 60.0

    def retry_schedule(self) -> list[float] | None:
        if not self.webhook_retry_schedule:
            return None
        return [float(x) for x in self.webhook_retry_schedule.split(",") if x.strip()]

    extra_features: dict[str, bool] = Field(default_factory=dict)


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and CLI change the environment)."""
    get_settings.cache_clear()
