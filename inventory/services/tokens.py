"""API tokens: created by the CLI, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import ApiToken, Site
from inventory.domain.errors import InvalidInput
from inventory.services.access import ROLES, SYSTEM, Actor
from inventory.services.common import audit, site_by_code

TOKEN_PREFIX = "inv_"


def hash_token(raw: str) -> str:
    # Tokens are long random strings, so a fast hash is enough; no salt needed to resist guessing.
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    session: Session,
    now: datetime,
    *,
    role: str,
    name: str,
    site: str | None = None,
    region: str | None = None,
    actor: Actor = SYSTEM,
) -> tuple[ApiToken, str]:
    if role not in ROLES:
        raise InvalidInput(
            f"unknown role {role!r}", fields={"role": [f"one of {', '.join(ROLES)}"]}
        )
    at = site_by_code(session, site) if site else None
    if role == "centre_manager" and at is None:
        raise InvalidInput(
            "a centre manager token belongs to a site",
            fields={"site": ["required for centre_manager"]},
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=role,
        site=at,
        region=region or (at.region if at else None),
        token_hash=hash_token(raw),
        created_at=now,
    )
    session.add(token)
    session.flush()
    audit(
        session,
        actor,
        now,
        "token.create",
        "api_token",
        token.id,
        after={"name": name, "role": role, "site": site, "region": token.region},
    )
    return token, raw


# Who a token stands for, by its hash, for a few seconds: a read is then one query, not
# two more for the token and its site. Revoking in this process forgets it at once; another
# process (gunicorn's other workers) refuses it once its entry is older than the setting.
_known: dict[str, tuple[float, Actor]] = {}
_KNOWN_MAX = 10_000


def actor_for(session: Session, raw: str, *, cache_s: float = 0.0) -> Actor | None:
    digest = hash_token(raw)
    if cache_s > 0:
        known = _known.get(digest)
        if known is not None and time.monotonic() - known[0] < cache_s:
            return known[1]
    row = session.execute(
        select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.site_id, ApiToken.region)
        .add_columns(Site.code)
        .outerjoin(Site, Site.id == ApiToken.site_id)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        _known.pop(digest, None)
        return None
    token_id, name, role, site_id, region, site_code = row
    actor = Actor(
        name=name,
        role=role,
        site_id=site_id,
        site_code=site_code,
        region=region,
        token_id=token_id,
    )
    if cache_s > 0:
        if len(_known) >= _KNOWN_MAX:
            _known.clear()
        _known[digest] = (time.monotonic(), actor)
    return actor


def revoke_tokens(
    session: Session,
    now: datetime,
    *,
    token_id: int | None = None,
    name: str | None = None,
    actor: Actor = SYSTEM,
) -> list[int]:
    """Revoke the token with this id, or every token with this name; refused from now on
    (at once in this process). Returns the ids revoked."""
    if token_id is None and not name:
        raise InvalidInput("name a token", fields={"token": ["an id or a name"]})
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    query = query.where(ApiToken.id == token_id) if token_id is not None else query
    query = query.where(ApiToken.name == name) if name else query
    revoked = []
    for token in session.scalars(query):
        token.revoked_at = now
        _known.pop(token.token_hash, None)
        audit(
            session, actor, now, "token.revoke", "api_token", token.id, after={"name": token.name}
        )
        revoked.append(token.id)
    return revoked
