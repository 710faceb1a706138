"""Who may see and do what. The policy lives here, so the HTTP API, the CLI and the
MQTT side all ask the same question the same way.

Roles:
- admin: everything.
- pharmacist: hospital pharmacy work (receipts, thaw, repack, ship, holds and their
  decisions, recall). Scoped to a site: acts on its own site's stock, holds and decides on
  held stock at the sites its pharmacy supplies (the pharmacist decides release or discard
  of what an excursion exposed there), and sees the stock of the sites in its region;
  unscoped: acts and sees everywhere.
- centre_manager: always scoped to one site; sees and acts on that site's stock only
  (requests, receiving shipments, use and waste, holds). Receives straight from SSI when its
  site is supplied by a supplier.
- coordinator: read-only across a region (or everywhere when no region is set).
- auditor: read-only everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, or_, select, true

from inventory.db.models import Site
from inventory.domain.errors import Forbidden, NotFound

ROLES = ("admin", "pharmacist", "centre_manager", "coordinator", "auditor")

# Which roles may perform each action; scope is checked separately against the site.
ACTIONS: dict[str, frozenset[str]] = {
    "catalogue.write": frozenset({"admin"}),
    "receive": frozenset({"admin", "pharmacist", "centre_manager"}),
    "thaw": frozenset({"admin", "pharmacist"}),
    "repack": frozenset({"admin", "pharmacist"}),
    "administer": frozenset({"admin", "pharmacist", "centre_manager"}),
    "waste": frozenset({"admin", "pharmacist", "centre_manager"}),
    "hold": frozenset({"admin", "pharmacist", "centre_manager"}),
    "decide_hold": frozenset({"admin", "pharmacist"}),  # release or discard
    "recall": frozenset({"admin", "pharmacist"}),
    "request.create": frozenset({"admin", "centre_manager", "pharmacist"}),
    "request.decide": frozenset({"admin", "pharmacist"}),
    "ship": frozenset({"admin", "pharmacist"}),
    "receive_shipment": frozenset({"admin", "pharmacist", "centre_manager"}),
    "device.write": frozenset({"admin"}),
    "alert.ack": frozenset({"admin", "pharmacist", "centre_manager"}),
    "appointments.write": frozenset({"admin", "coordinator", "pharmacist"}),
    "plan": frozenset({"admin", "pharmacist", "coordinator"}),
    "plan.approve": frozenset({"admin", "pharmacist"}),
    "trace": frozenset({"admin", "pharmacist", "auditor", "coordinator"}),
    "users.manage": frozenset({"admin"}),
    "uptake.read": frozenset({"admin", "auditor", "coordinator", "pharmacist"}),
    "uptake.write": frozenset({"admin"}),
}


# What a pharmacist scoped to a hospital pharmacy also does at the sites it supplies.
SUPPLIED_SITE_ACTIONS = frozenset({"hold", "decide_hold"})


@dataclass(frozen=True)
class Actor:
    """Who is asking: from an API token, or a system process (ingest, scheduler, CLI)."""

    name: str
    role: str
    site_id: int | None = None
    site_code: str | None = None
    region: str | None = None
    token_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})"

    def may(self, action: str) -> bool:
        return self.role in ACTIONS[action]

    def sees(self, site) -> bool:
        """Whether stock at `site` (a Site row) is visible at all."""
        return self.sees_site(site.id, site.region)

    def sees_site(self, site_id: int, region: str | None) -> bool:
        """`sees` of the site with this id and region, given as values."""
        if self.role in ("admin", "auditor"):
            return True
        if self.role == "centre_manager":
            return site_id == self.site_id
        if self.role == "pharmacist" and self.site_id is not None:
            return site_id == self.site_id or region == self.region
        if self.role == "coordinator" and self.region:
            return region == self.region
        return self.role in ("pharmacist", "coordinator")

    def own_site_id(self, code: str) -> int | None:
        """The id of the site `code` when it is the actor's own and `sees` it for that alone
        (no need to look it up to know): a centre manager's, a pharmacist's, an admin's or
        an auditor's own site. None otherwise."""
        if code != self.site_code or self.site_id is None:
            return None
        if self.role in ("admin", "auditor", "centre_manager", "pharmacist"):
            return self.site_id
        return None

    def sees_site_id(self, site_id) -> ColumnElement[bool]:
        """`sees` as one SQL predicate over a site id column, so a list is filtered before
        its limit, never after."""
        kind, values = self.sight()
        return sight_clause(kind, site_id, values)

    def sight(self) -> tuple[str, dict[str, Any]]:
        """`sees` as a kind of sight and its values, for a statement made once per kind
        (`sight_clause`): everything, nothing, its own site (sight_site), its region's sites
        (sight_region), or both."""
        if self.role in ("admin", "auditor"):
            return "everything", {}
        if self.role == "centre_manager":
            return "site", {"sight_site": self.site_id}
        if self.role == "pharmacist" and self.site_id is not None:
            return "site_or_region", {"sight_site": self.site_id, "sight_region": self.region}
        if self.role == "coordinator" and self.region:
            return "region", {"sight_region": self.region}
        return ("everything" if self.role in ("pharmacist", "coordinator") else "nothing"), {}

    def acts_at(self, site, action: str | None = None) -> bool:
        if self.role == "admin":
            return True
        if self.role in ("coordinator", "auditor"):
            return False
        if self.site_id is None:
            return self.role == "pharmacist"
        if site.id == self.site_id:
            return True
        return (
            self.role == "pharmacist"
            and action in SUPPLIED_SITE_ACTIONS
            and site.supplied_by_id == self.site_id
        )


def sight_clause(
    kind: str, site_id, values: Mapping[str, Any] | None = None
) -> ColumnElement[bool]:
    """The predicate of a kind of sight (`Actor.sight`) over a site id column: with its
    `values` in it, or without them the parameters sight_site and sight_region, given at
    each run of a statement made once."""

    def value(name: str):
        return bindparam(name) if values is None else bindparam(name, values[name], unique=True)

    if kind == "everything":
        return true()
    if kind == "nothing":
        return false()
    if kind == "site":
        return site_id == value("sight_site")
    if kind == "region":
        return site_id.in_(_sites_in(value("sight_region")))
    return or_(site_id == value("sight_site"), site_id.in_(_sites_in(value("sight_region"))))


def _sites_in(region):
    # the table's columns: a query of values that embeds this stays a Core query
    sites = Site.__table__.c
    return select(sites.id).where(sites.region == region)


def require(actor: Actor, action: str, site=None) -> None:
    """Raise unless `actor` may do `action` (at `site`). Stock the actor cannot even see
    is reported as not found, so a centre manager learns nothing of other sites."""
    if site is not None and not actor.sees(site):
        raise NotFound("not found")
    if not actor.may(action):
        raise Forbidden(f"role {actor.role} may not {action.replace('.', ' ')}")
    if site is not None and not actor.acts_at(site, action):
        raise Forbidden(f"{actor.name} may not {action.replace('.', ' ')} at site {site.code}")


def require_visible(actor: Actor, site) -> None:
    if not actor.sees(site):
        raise NotFound("not found")


SYSTEM = Actor(name="system", role="admin")
