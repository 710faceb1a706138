"""The service's settings, declared once: every setting any process reads (the web app, the
ingest worker, the scheduler) is a field here with its default. From the environment, each
is `INVENTORY_` + its name in capitals (INVENTORY_DATABASE_URL, ...); in a Flask app's config,
its name in capitals (DATABASE_URL, ...), which is how tests and the demo hand them in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PREFIX = "INVENTORY_"
SETTINGS_KEY = "inventory.settings"


@dataclass(frozen=True)
class Settings:
    # where the data lives; default: a SQLite file in the app's instance folder
    database_url: str = ""
    # the broker: mqtt://user:pass@host:1883 (the ingest worker's, the scheduler's alerts,
    # and /health's reachability check); empty: no broker configured
    mqtt_url: str = ""
    # alerts are POSTed there, retried with backoff; empty: no webhook
    webhook_url: str = ""
    # an alarm nobody acknowledged goes up a level after this many minutes
    alert_escalate_after_min: int = 30
    # the planner's solver time limit per plan request (shared by a region's pharmacies)
    plan_time_limit_s: float = 10.0
    # log every SQL statement
    sql_echo: bool = False
    # signs the staff pages' session cookies; empty: one made once in the instance folder
    secret_key: str = ""
    # the staff pages flag stock whose beyond-use date is this many days away or fewer
    expiring_soon_days: int = 7
    # readings: monthly partitions made this far ahead (PostgreSQL), raw readings kept
    # this long (hourly min/max roll-ups are kept for good)
    reading_partitions_ahead: int = 3
    readings_retention_months: int = 60
    # an API token's rights are looked up again after this many seconds (0: every request);
    # a token revoked in another process is refused within this time, in the same at once
    token_cache_s: float = 10.0
    # GET /metrics answers only `Authorization: Bearer <this>`; empty: /metrics is not served
    metrics_token: str = ""
    # /metrics adds up the figures of every process whose PROMETHEUS_MULTIPROC_DIR is a
    # folder under this one (the API's workers, the ingest workers, the scheduler)
    metrics_dir: str = ""

    @classmethod
    def from_environment(
        cls, instance_path: str | os.PathLike, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """From INVENTORY_* variables; anything unset keeps its default."""
        env = os.environ if environ is None else environ
        given = {
            f.name: env[PREFIX + f.name.upper()]
            for f in fields(cls)
            if PREFIX + f.name.upper() in env
        }
        settings = cls.from_mapping(given)
        if not settings.database_url:
            settings = replace(settings, database_url=default_database_url(instance_path))
        return settings

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """From field names (any case) to values, strings converted to each field's type."""
        known = {f.name: f for f in fields(cls)}
        typed = {}
        for key, value in values.items():
            name = key.lower()
            if name in known:
                typed[name] = _typed(known[name].type, value)
        return cls(**typed)

    def as_flask_config(self) -> dict[str, Any]:
        return {f.name.upper(): getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_flask_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls.from_mapping(
            {f.name: config[f.name.upper()] for f in fields(cls) if f.name.upper() in config}
        )


def _typed(kind: Any, value: Any) -> Any:
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == "bool":
        return (
            value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")
        )
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return "" if value is None else str(value)


def default_database_url(instance_path: str | os.PathLike) -> str:
    return f"sqlite:///{Path(instance_path) / 'inventory.sqlite'}"


def from_environment(instance_path: str | os.PathLike) -> dict:
    """The settings from the environment as a Flask config mapping."""
    return Settings.from_environment(instance_path).as_flask_config()
