"""API tokens: created by the CLI, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.db.models import ApiToken
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


def actor_for(session: Session, raw: str) -> Actor | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        return None
    return Actor(
        name=token.name,
        role=token.role,
        site_id=token.site_id,
        site_code=token.site.code if token.site else None,
        region=token.region,
        token_id=token.id,
    )
