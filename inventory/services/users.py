"""Accounts for people: passwords (scrypt), sign-in with lock-out, and user management.

A signed-in person acts as the same Actor an API token gives, so the access policy in
`access.py` applies unchanged. Every change here is in the audit log.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inventory.db.people import SignInAttempt, User
from inventory.domain.errors import Conflict, InvalidInput, NotFound
from inventory.services.access import ROLES, SYSTEM, Actor, require
from inventory.services.common import audit, site_by_code

# scrypt at n=2**14, r=8: 16 MiB and some tens of milliseconds per guess
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 10
LOCK_AFTER_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    return hmac.compare_digest(candidate, _unb64(digest))


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the user name is unknown, so both answers take as long."""
    return hash_password(secrets.token_urlsafe(16))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20, dklen=32)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def actor_of(user: User) -> Actor:
    # the person's name and user name, as the audit log and custody ledger show it
    return Actor(
        name=f"{user.display_name} [{user.username}]",
        role=user.role,
        site_id=user.site_id,
        site_code=user.site.code if user.site else None,
        region=user.region,
    )


# ---------------------------------------------------------------- signing in


@dataclass(frozen=True)
class SignIn:
    user: User | None
    locked: bool = False


def sign_in(session: Session, now: datetime, username: str, password: str) -> SignIn:
    """Check a password, counting failures per user name (known or not). After
    LOCK_AFTER_FAILURES failures within LOCK_WINDOW the name is locked for LOCK_WINDOW from
    the last failure, whatever password is given; the answer never says whether it exists."""
    name = normalise_username(username)
    user = session.scalar(select(User).where(User.username == name))
    good = verify_password(password, user.password_hash if user else _dummy_hash())
    if is_locked(session, now, name):
        return SignIn(None, locked=True)
    ok = good and user is not None and user.disabled_at is None
    session.add(SignInAttempt(username=name[:64], at=now, succeeded=ok))
    if ok:
        # a success wipes the slate: earlier failures no longer count towards a lock
        session.execute(
            delete(SignInAttempt).where(
                SignInAttempt.username == name, SignInAttempt.succeeded.is_(False)
            )
        )
        return SignIn(user)
    return SignIn(None, locked=is_locked(session, now, name))


def is_locked(session: Session, now: datetime, username: str) -> bool:
    """Locked for LOCK_WINDOW after the failure that made LOCK_AFTER_FAILURES of them within
    LOCK_WINDOW (no attempt is recorded while locked, so the last ones are those)."""
    session.flush()
    last = session.scalars(
        select(SignInAttempt.at)
        .where(SignInAttempt.username == username, SignInAttempt.succeeded.is_(False))
        .order_by(SignInAttempt.at.desc())
        .limit(LOCK_AFTER_FAILURES)
    ).all()
    return (
        len(last) == LOCK_AFTER_FAILURES
        and last[0] - last[-1] <= LOCK_WINDOW
        and now - last[0] < LOCK_WINDOW
    )


def user_for_session(session: Session, user_id: int, epoch: int) -> User | None:
    user = session.get(User, user_id)
    if user is None or user.disabled_at is not None or user.session_epoch != epoch:
        return None
    return user


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


# ---------------------------------------------------------------- managing accounts


def list_users(session: Session, actor: Actor) -> list[User]:
    require(actor, "users.manage")
    return list(session.scalars(select(User).order_by(User.username)))


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    require(actor, "users.manage")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def create_user(
    session: Session,
    now: datetime,
    *,
    username: str,
    role: str,
    display_name: str | None = None,
    site: str | None = None,
    region: str | None = None,
    password: str | None = None,
    actor: Actor = SYSTEM,
) -> tuple[User, str]:
    """Create an account; returns it and its password (generated when none is given)."""
    require(actor, "users.manage")
    name = normalise_username(username)
    if not name or len(name) > 64 or not set(name) <= USERNAME_CHARS:
        raise InvalidInput(
            "invalid user name",
            fields={"username": ["letters, digits and . _ - @ only, at most 64"]},
        )
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(
            f"user name {name!r} is taken",
            code="username_taken",
            fields={"username": ["already taken"]},
        )
    password = password if password is not None else generate_password()
    _check_password(password)
    user = User(
        username=name,
        display_name=(display_name or name).strip()[:128],
        password_hash=hash_password(password),
        session_epoch=0,
        created_at=now,
    )
    _set_scope(session, user, role, site, region)
    session.add(user)
    session.flush()
    audit(session, actor, now, "user.create", "user", user.id, after=_summary(user))
    return user, password


def update_user(
    session: Session,
    actor: Actor,
    now: datetime,
    user_id: int,
    *,
    display_name: str,
    role: str,
    site: str | None,
    region: str | None,
    disabled: bool,
) -> User:
    user = get_user(session, actor, user_id)
    before = _summary(user)
    user.display_name = display_name.strip()[:128] or user.username
    _set_scope(session, user, role, site, region)
    if disabled and user.disabled_at is None:
        user.disabled_at = now
    elif not disabled:
        user.disabled_at = None
    after = _summary(user)
    if after != before:
        if {k: v for k, v in after.items() if k != "display_name"} != {
            k: v for k, v in before.items() if k != "display_name"
        }:
            user.session_epoch += 1  # new rights: sign in again
        audit(session, actor, now, "user.update", "user", user.id, before=before, after=after)
    return user


def reset_password(session: Session, actor: Actor, now: datetime, user_id: int) -> str:
    """An admin sets a new generated password (shown once) and ends the user's sessions."""
    user = get_user(session, actor, user_id)
    password = generate_password()
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    audit(session, actor, now, "user.reset_password", "user", user.id)
    return password


def change_own_password(
    session: Session, user: User, now: datetime, current: str, new: str, repeated: str
) -> None:
    if not verify_password(current, user.password_hash):
        raise InvalidInput("the current password is wrong", fields={"current": ["wrong password"]})
    if new != repeated:
        raise InvalidInput("the passwords differ", fields={"repeated": ["does not match"]})
    _check_password(new, field="new")
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    audit(session, actor_of(user), now, "user.change_password", "user", user.id)


def _check_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password too short",
            fields={field: [f"at least {MIN_PASSWORD_LENGTH} characters"]},
        )


def _set_scope(session: Session, user: User, role: str, site: str | None, region: str | None):
    if role not in ROLES:
        raise InvalidInput(
            f"unknown role {role!r}", fields={"role": [f"one of {', '.join(ROLES)}"]}
        )
    at = site_by_code(session, site) if site else None
    if role == "centre_manager" and at is None:
        raise InvalidInput(
            "a centre manager belongs to a site", fields={"site": ["required for centre_manager"]}
        )
    user.role = role
    user.site = at
    user.site_id = at.id if at else None
    user.region = region or (at.region if at else None)


def _summary(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "site": user.site.code if user.site else None,
        "region": user.region,
        "disabled": user.disabled_at is not None,
    }
