"""Mosquitto 2 password and ACL files for device and service credentials.

Each device logs in with its own id as username and may publish only its own readings and
status; it reads nothing. Service users (the ingest worker, the alerting side) read every
device topic, including through `$share/<group>/...` subscriptions, and publish alerts.

The ACL uses one explicit `user` block per account rather than a `%u` pattern: the file
then lists exactly who may do what, and an account without a block can do nothing.

Mosquitto reads these files at start-up and again on SIGHUP, so after adding a device:
regenerate, then `kill -HUP <mosquitto pid>`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from devices.codec import (
    ALERTS_ROOT,
    DEVICES_ROOT,
    is_valid_device_id,
    readings_topic,
    status_topic,
)
from inventory.passwords import (  # noqa: F401  (hash_password: the broker's own format)
    hash_password,
    is_password_hash,
    verify_password,
)


def _require_username(username: str) -> str:
    # The same rule for devices and service users: the name ends up in a colon-separated
    # password file and in ACL lines, and a device's name is a topic level.
    if not is_valid_device_id(username):
        raise ValueError(f"invalid username {username!r}: must match [A-Za-z0-9._-]{{1,64}}")
    return username


def password_file(entries: Mapping[str, str]) -> str:
    """Password-file text from username -> hash (as made by `hash_password`)."""
    lines = []
    for username in sorted(entries):
        hashed = entries[username]
        _require_username(username)
        if not is_password_hash(hashed):
            raise ValueError(f"password for {username!r} is not a $7$ hash; hash it first")
        lines.append(f"{username}:{hashed}\n")
    return "".join(lines)


def acl_file(device_ids: Iterable[str], service_users: Iterable[str]) -> str:
    devices = sorted({_require_username(d) for d in device_ids})
    services = sorted({_require_username(u) for u in service_users})
    both = set(devices) & set(services)
    if both:
        raise ValueError(f"names used both as device and as service user: {sorted(both)}")

    blocks = ["# Generated: each device writes its own topics only; devices read nothing.\n"]
    for device_id in devices:
        blocks.append(
            f"user {device_id}\n"
            f"topic write {readings_topic(device_id)}\n"
            f"topic write {status_topic(device_id)}\n"
        )
    for username in services:
        # Mosquitto checks a `$share/<group>/<filter>` subscription against <filter>.
        blocks.append(
            f"user {username}\ntopic read {DEVICES_ROOT}/#\ntopic readwrite {ALERTS_ROOT}/#\n"
        )
    return "\n".join(blocks)


def mosquitto_conf(passwd_path: Path, acl_path: Path) -> str:
    """Settings that must precede any `listener` line of the broker's configuration."""
    return (
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"password_file {Path(passwd_path).resolve()}\n"
        f"acl_file {Path(acl_path).resolve()}\n"
    )


def _write_atomically(path: Path, text: str, mode: int) -> None:
    # A broker reloading on SIGHUP must never see a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_broker_files(
    out_dir: str | os.PathLike[str],
    devices: Mapping[str, str],
    service_users: Mapping[str, str],
) -> dict[str, Path]:
    """Write `passwd` (mode 0600), `acl` and `mosquitto.conf` into `out_dir`.

    `devices` maps device id -> password hash, `service_users` username -> hash.
    Returns {"passwd": ..., "acl": ..., "conf": ...}. The broker's own user must be able
    to read `passwd` (chown it when Mosquitto runs under another account).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    acl_text = acl_file(devices.keys(), service_users.keys())  # validates names and overlap
    passwd_text = password_file({**devices, **service_users})
    paths = {"passwd": out / "passwd", "acl": out / "acl", "conf": out / "mosquitto.conf"}
    _write_atomically(paths["passwd"], passwd_text, 0o600)
    _write_atomically(paths["acl"], acl_text, 0o644)
    _write_atomically(paths["conf"], mosquitto_conf(paths["passwd"], paths["acl"]), 0o644)
    return paths
