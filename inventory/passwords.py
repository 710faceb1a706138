"""Passwords in Mosquitto 2's own format, made where the device registry stores a device's
secret (inventory.services) and where the broker's password file is written (devices): below
both, so neither imports the other."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

# Mosquitto 2's "sha512-pbkdf2" scheme, as written by `mosquitto_passwd`:
#   $7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 digest>
PBKDF2_PREFIX = "$7$"
DEFAULT_ITERATIONS = 101  # mosquitto_passwd's default
SALT_BYTES = 12
DIGEST_BYTES = 64
HASH_PATTERN = re.compile(r"^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


def hash_password(
    secret: str, *, salt: bytes | None = None, iterations: int = DEFAULT_ITERATIONS
) -> str:
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if salt is None:
        salt = os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode("utf-8"), salt, iterations, DIGEST_BYTES)
    return (
        f"{PBKDF2_PREFIX}{iterations}$"
        f"{base64.b64encode(salt).decode('ascii')}${base64.b64encode(digest).decode('ascii')}"
    )


def verify_password(secret: str, hashed: str) -> bool:
    """True when `secret` matches a `$7$` hash; False for a wrong secret or a malformed hash."""
    match = HASH_PATTERN.fullmatch(hashed)
    if match is None:
        return False
    iterations = int(match.group(1))
    try:
        salt = base64.b64decode(match.group(2), validate=True)
        expected = base64.b64decode(match.group(3), validate=True)
    except ValueError:
        return False
    if iterations < 1 or not expected:
        return False
    actual = hashlib.pbkdf2_hmac("sha512", secret.encode("utf-8"), salt, iterations, len(expected))
    return hmac.compare_digest(actual, expected)


def is_password_hash(value: str) -> bool:
    return HASH_PATTERN.fullmatch(value) is not None
