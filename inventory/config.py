"""Settings from the environment: every variable is prefixed INVENTORY_."""

from __future__ import annotations

import os
from pathlib import Path

PREFIX = "INVENTORY_"


def default_database_url(instance_path: str | os.PathLike) -> str:
    return f"sqlite:///{Path(instance_path) / 'inventory.sqlite'}"


def from_environment(instance_path: str | os.PathLike) -> dict:
    """Read INVENTORY_* variables; the names below are the documented ones."""
    env = os.environ
    return {
        "DATABASE_URL": env.get(f"{PREFIX}DATABASE_URL") or default_database_url(instance_path),
        "MQTT_URL": env.get(f"{PREFIX}MQTT_URL", ""),
        "WEBHOOK_URL": env.get(f"{PREFIX}WEBHOOK_URL", ""),
        "ALERT_ESCALATE_AFTER_MIN": int(env.get(f"{PREFIX}ALERT_ESCALATE_AFTER_MIN", "30")),
        "EXPIRING_SOON_DAYS": int(env.get(f"{PREFIX}EXPIRING_SOON_DAYS", "7")),
        # readings: monthly partitions made this far ahead (PostgreSQL), raw readings kept
        # this long (hourly min/max roll-ups are kept for good)
        "READING_PARTITIONS_AHEAD": int(env.get(f"{PREFIX}READING_PARTITIONS_AHEAD", "3")),
        "READINGS_RETENTION_MONTHS": int(env.get(f"{PREFIX}READINGS_RETENTION_MONTHS", "60")),
        "SQL_ECHO": env.get(f"{PREFIX}SQL_ECHO", "") == "1",
    }
