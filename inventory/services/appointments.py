"""Appointments from the booking system, and what the planner expects of each site.

Appointments arrive in batches (the JSON API, or the CSV export the CLI imports), keyed by the
booking system's reference: a new reference is created, a known one is updated, and a status of
``cancelled`` cancels it. Nothing personal is stored, only the reference, the site, day, slot,
product and target group.

Expected no-shows and walk-ins per site: learned from history where there is some (doses
administered at the site on past days against the appointments booked for those days), taken
from the site's settings where there is not (default no-show rate 7 %, no walk-ins).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, CustodyEvent, Product, Site
from inventory.db.planning import Appointment, PlanningSetting, SitePlanning
from inventory.domain.errors import Forbidden, InvalidInput
from inventory.domain.stability import LOCAL_TIME
from inventory.services.access import Actor, require, require_visible
from inventory.services.common import audit, site_by_code

VACCINATION_SITE_KINDS = ("vaccination_centre", "gp_practice", "mobile_unit")
STATUSES = ("booked", "cancelled")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_NO_SHOW_RATE = 0.07
# the programme's target groups ("" for an appointment that names none); the priority order
# under scarcity is made of these
TARGET_GROUPS = ("nursing_home", "85+", "65+", "50+", "risk", "pregnant", "staff", "children", "")
DEFAULT_PRIORITY = ["nursing_home", "85+", "65+", "risk", "staff", "50+", ""]
PRIORITY_SETTING = "priority"
# history: how far back to look, and how much of it is enough to learn from
HISTORY_DAYS = 56
MIN_HISTORY_DAYS = 5
MIN_HISTORY_BOOKINGS = 50
_CHUNK = 500


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_TIME).date()


# ---------------------------------------------------------------- batches of appointments


@dataclass(frozen=True)
class AppointmentInput:
    ref: str
    site: str
    day: date
    slot: str
    product: str
    status: str = "booked"
    group: str = ""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "cancelled": self.cancelled,
            "unchanged": self.unchanged,
        }


RowErrors = dict[int, dict[str, list[str]]]


@dataclass
class _Lookup:
    sites: dict[str, Site] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)


def _lookup(session: Session, rows: list[AppointmentInput]) -> _Lookup:
    found = _Lookup()
    site_codes = sorted({r.site for r in rows})
    product_codes = sorted({r.product for r in rows})
    for i in range(0, len(site_codes), _CHUNK):
        for site in session.scalars(select(Site).where(Site.code.in_(site_codes[i : i + _CHUNK]))):
            found.sites[site.code] = site
    for i in range(0, len(product_codes), _CHUNK):
        for product in session.scalars(
            select(Product).where(Product.code.in_(product_codes[i : i + _CHUNK]))
        ):
            found.products[product.code] = product
    return found


def check_rows(
    session: Session, actor: Actor, rows: list[AppointmentInput], indices: list[int] | None = None
) -> RowErrors:
    """Per row (by index, or by the given ``indices``: the rows' places in a larger batch),
    the fields that are wrong and why: unknown or invisible site, a site that does not
    vaccinate, unknown product, bad status, a reference listed twice."""
    found = _lookup(session, rows)
    errors: RowErrors = defaultdict(dict)
    first_seen: dict[str, int] = {}
    for index, row in zip(indices if indices is not None else range(len(rows)), rows, strict=False):
        site = found.sites.get(row.site)
        if site is None:
            errors[index]["site"] = ["unknown site"]
        elif not actor.sees(site):
            errors[index]["site"] = ["not a site this token may book for"]
        elif site.kind not in VACCINATION_SITE_KINDS:
            errors[index]["site"] = [f"a {site.kind} does not take appointments"]
        if row.product not in found.products:
            errors[index]["product"] = ["unknown product"]
        if row.status not in STATUSES:
            errors[index]["status"] = [f"one of {', '.join(STATUSES)}"]
        if row.ref in first_seen:
            errors[index]["ref"] = [
                f"listed twice in the batch (first at row {first_seen[row.ref]})"
            ]
        else:
            first_seen[row.ref] = index
    return dict(errors)


def upsert(
    session: Session,
    actor: Actor,
    now: datetime,
    rows: list[AppointmentInput],
    *,
    errors: RowErrors | None = None,
    total: int | None = None,
) -> Counts:
    """Create, update or cancel appointments by reference. The whole batch is refused (a 422
    naming each bad row and field, ``fields: {"3.site": ["unknown site"]}``) if any row is bad.

    ``errors`` are problems already found in rows that could not even be read (the API's
    schema), keyed by their place in a batch of ``total`` rows; ``rows`` are then the others,
    in order."""
    require(actor, "appointments.write")
    errors = {i: dict(f) for i, f in (errors or {}).items()}
    total = len(rows) if total is None else total
    indices = [i for i in range(total) if i not in errors]
    for index, refused in check_rows(session, actor, rows, indices).items():
        errors.setdefault(index, {}).update(refused)
    if errors:
        raise InvalidInput(
            f"{len(errors)} of {total} appointments are invalid; nothing was stored",
            fields={
                f"{i}.{name}": list(messages)
                for i, fields in sorted(errors.items())
                for name, messages in sorted(fields.items())
            },
        )
    return _apply(session, actor, now, rows)


def require_writer(actor: Actor) -> None:
    require(actor, "appointments.write")


def upsert_good_rows(
    session: Session, actor: Actor, now: datetime, rows: list[AppointmentInput]
) -> tuple[Counts, RowErrors]:
    """Store the rows that are good and return the errors of the others (the CSV import:
    a bad row does not stop the good ones)."""
    require(actor, "appointments.write")
    errors = check_rows(session, actor, rows)
    good = [row for i, row in enumerate(rows) if i not in errors]
    return _apply(session, actor, now, good), errors


def _apply(session: Session, actor: Actor, now: datetime, rows: list[AppointmentInput]) -> Counts:
    counts = Counts()
    if not rows:
        return counts
    found = _lookup(session, rows)
    refs = [r.ref for r in rows]
    existing: dict[str, Appointment] = {}
    for i in range(0, len(refs), _CHUNK):
        for appointment in session.scalars(
            select(Appointment).where(Appointment.ref.in_(refs[i : i + _CHUNK]))
        ):
            existing[appointment.ref] = appointment
    for row in rows:
        site, product = found.sites[row.site], found.products[row.product]
        current = existing.get(row.ref)
        if current is None:
            session.add(
                Appointment(
                    ref=row.ref,
                    site_id=site.id,
                    day=row.day,
                    slot=row.slot,
                    product_id=product.id,
                    status=row.status,
                    target_group=row.group or "",
                    created_at=now,
                    updated_at=now,
                )
            )
            counts.created += 1
            continue
        wanted = (site.id, row.day, row.slot, product.id, row.status, row.group or "")
        have = (
            current.site_id,
            current.day,
            current.slot,
            current.product_id,
            current.status,
            current.target_group,
        )
        if wanted == have:
            counts.unchanged += 1
            continue
        if current.status == "booked" and row.status == "cancelled":
            counts.cancelled += 1
        else:
            counts.updated += 1
        (
            current.site_id,
            current.day,
            current.slot,
            current.product_id,
            current.status,
            current.target_group,
        ) = wanted
        current.updated_at = now
    session.flush()
    audit(
        session, actor, now, "appointments.upsert", "appointments", "batch", after=counts.as_dict()
    )
    return counts


def booked_counts(
    session: Session, site_ids: list[int], first: date, last: date, product_id: int | None = None
) -> dict[tuple[int, date, int, str], int]:
    """Booked (not cancelled) appointments per (site id, day, product id, group)."""
    if not site_ids:
        return {}
    query = (
        select(
            Appointment.site_id,
            Appointment.day,
            Appointment.product_id,
            Appointment.target_group,
            func.count(Appointment.id),
        )
        .where(Appointment.status == "booked", Appointment.day >= first, Appointment.day <= last)
        .group_by(
            Appointment.site_id, Appointment.day, Appointment.product_id, Appointment.target_group
        )
    )
    if product_id is not None:
        query = query.where(Appointment.product_id == product_id)
    counts: dict[tuple[int, date, int, str], int] = {}
    for i in range(0, len(site_ids), _CHUNK):
        for site_id, day, pid, group, n in session.execute(
            query.where(Appointment.site_id.in_(site_ids[i : i + _CHUNK]))
        ):
            counts[(site_id, day, pid, group)] = int(n)
    return counts


# ---------------------------------------------------------------- programme-wide priority


def priority_order(session: Session) -> list[str]:
    setting = session.get(PlanningSetting, PRIORITY_SETTING)
    return list(setting.value) if setting is not None else list(DEFAULT_PRIORITY)


def set_priority_order(
    session: Session, actor: Actor, now: datetime, groups: list[str]
) -> list[str]:
    """The order in which target groups are served when supply is short (first = first served)."""
    if actor.role != "admin":
        raise Forbidden(f"role {actor.role} may not change the programme's priority order")
    if len(set(groups)) != len(groups):
        raise InvalidInput("a group is listed twice", fields={"priority": ["duplicates"]})
    before = priority_order(session)
    setting = session.get(PlanningSetting, PRIORITY_SETTING)
    if setting is None:
        setting = PlanningSetting(
            name=PRIORITY_SETTING, value=list(groups), updated_at=now, updated_by=actor.label
        )
        session.add(setting)
    else:
        setting.value, setting.updated_at, setting.updated_by = list(groups), now, actor.label
    audit(
        session,
        actor,
        now,
        "planning.priority",
        "planning_settings",
        PRIORITY_SETTING,
        before={"priority": before},
        after={"priority": list(groups)},
    )
    return list(groups)


# ---------------------------------------------------------------- per-site settings


@dataclass(frozen=True)
class Expectation:
    """What the planner expects at a site: ``walk_ins[weekday][product]`` people a day."""

    no_show_rate: float
    walk_ins: dict[str, dict[str, float]]
    source: str  # "history" or "configured"
    history_days: int = 0
    history_bookings: int = 0


def _require_site_planner(actor: Actor, site: Site) -> None:
    """Admins, and pharmacists of the site itself or of the pharmacy that supplies it."""
    require_visible(actor, site)
    if actor.role == "admin":
        return
    if actor.role != "pharmacist":
        raise Forbidden(f"role {actor.role} may not change planning settings")
    if actor.site_id is not None and actor.site_id not in (site.id, site.supplied_by_id):
        raise Forbidden(f"{actor.name} may not change the planning settings of {site.code}")


def settings_of(session: Session, site: Site) -> SitePlanning | None:
    return session.get(SitePlanning, site.id)


def update_site_settings(
    session: Session,
    actor: Actor,
    now: datetime,
    code: str,
    *,
    no_show_rate: float | None = None,
    walk_ins: dict | None = None,
    delivery_days: list[int] | None = None,
    clear_delivery_days: bool = False,
) -> SitePlanning:
    site = site_by_code(session, code)
    _require_site_planner(actor, site)
    if walk_ins is not None:
        products = set(session.scalars(select(Product.code)))
        bad = {
            f"walk_ins.{day}.{p}": ["unknown product"]
            for day, per in walk_ins.items()
            for p in per
            if p not in products
        }
        if bad:
            raise InvalidInput("walk-ins name an unknown product", fields=bad)
    settings = settings_of(session, site)
    before = _settings_json(settings)
    if settings is None:
        settings = SitePlanning(
            site_id=site.id,
            no_show_rate=DEFAULT_NO_SHOW_RATE,
            walk_ins={},
            delivery_days=None,
            updated_at=now,
            updated_by=actor.label,
        )
        session.add(settings)
    if no_show_rate is not None:
        settings.no_show_rate = no_show_rate
    if walk_ins is not None:
        settings.walk_ins = {day: dict(per) for day, per in walk_ins.items() if per}
    if delivery_days is not None:
        settings.delivery_days = sorted(set(delivery_days))
    elif clear_delivery_days:
        settings.delivery_days = None
    settings.updated_at, settings.updated_by = now, actor.label
    session.flush()
    audit(
        session,
        actor,
        now,
        "site_planning.update",
        "site",
        site.code,
        before=before,
        after=_settings_json(settings),
    )
    return settings


def _settings_json(settings: SitePlanning | None) -> dict | None:
    if settings is None:
        return None
    return {
        "no_show_rate": settings.no_show_rate,
        "walk_ins": settings.walk_ins,
        "delivery_days": settings.delivery_days,
    }


def configured(settings: SitePlanning | None) -> Expectation:
    if settings is None:
        return Expectation(DEFAULT_NO_SHOW_RATE, {}, "configured")
    return Expectation(
        settings.no_show_rate,
        {d: dict(p) for d, p in (settings.walk_ins or {}).items()},
        "configured",
    )


def expectations(session: Session, sites: list[Site], today: date) -> dict[int, Expectation]:
    """Per site id: the learned expectation where the site has history, its settings otherwise.

    History is the last ``HISTORY_DAYS`` days before today on which the site had booked
    appointments; it counts once there are ``MIN_HISTORY_DAYS`` such days and
    ``MIN_HISTORY_BOOKINGS`` appointments. Then, with ``B`` booked and ``A`` doses administered
    per day and product:

    - no-show rate = sum of max(B - A, 0) / sum of B (people who did not come, as far as the
      doses tell; walk-ins on the same day hide some of them, so it errs low);
    - walk-ins per weekday and product = the mean over that weekday's days of
      max(A - B * (1 - rate), 0).
    """
    if not sites:
        return {}
    first = today - timedelta(days=HISTORY_DAYS)
    last = today - timedelta(days=1)
    ids = [s.id for s in sites]
    booked: dict[tuple[int, date, int], int] = defaultdict(int)
    for (site_id, day, product_id, _group), n in booked_counts(session, ids, first, last).items():
        booked[(site_id, day, product_id)] += n
    given = _administered(session, ids, first, last)
    products = dict(session.execute(select(Product.id, Product.code)).all())
    result: dict[int, Expectation] = {}
    for site in sites:
        own = settings_of(session, site)
        days = {day for (sid, day, _p) in booked if sid == site.id}
        total = sum(n for (sid, _d, _p), n in booked.items() if sid == site.id)
        if len(days) < MIN_HISTORY_DAYS or total < MIN_HISTORY_BOOKINGS:
            result[site.id] = configured(own)
            continue
        keys = {k for k in booked if k[0] == site.id} | {
            k for k in given if k[0] == site.id and k[1] in days
        }
        missed = sum(max(booked.get(k, 0) - given.get(k, 0), 0) for k in keys)
        rate = missed / total
        excess: dict[tuple[str, str], list[float]] = defaultdict(list)
        weekdays_seen: dict[str, set[date]] = defaultdict(set)
        for day in days:
            weekdays_seen[WEEKDAYS[day.weekday()]].add(day)
        for _sid, day, product_id in keys:
            a, b = (
                given.get((site.id, day, product_id), 0),
                booked.get((site.id, day, product_id), 0),
            )
            excess[(WEEKDAYS[day.weekday()], products[product_id])].append(
                max(a - b * (1 - rate), 0.0)
            )
        walk_ins: dict[str, dict[str, float]] = defaultdict(dict)
        for (weekday, product), values in excess.items():
            mean = sum(values) / len(weekdays_seen[weekday])
            if mean > 0:
                walk_ins[weekday][product] = round(mean, 2)
        result[site.id] = Expectation(round(rate, 4), dict(walk_ins), "history", len(days), total)
    return result


def _administered(
    session: Session, site_ids: list[int], first: date, last: date
) -> dict[tuple[int, date, int], int]:
    """Doses administered per (site id, local day, product id) between two days."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=LOCAL_TIME)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=LOCAL_TIME)
    rows = session.execute(
        select(CustodyEvent.from_site_id, CustodyEvent.at, Carton.product_id, CustodyEvent.doses)
        .join(Carton, Carton.id == CustodyEvent.carton_id)
        .where(
            CustodyEvent.kind == "administer",
            CustodyEvent.from_site_id.in_(site_ids),
            CustodyEvent.at >= start,
            CustodyEvent.at < end,
        )
    )
    given: dict[tuple[int, date, int], int] = defaultdict(int)
    for site_id, at, product_id, doses in rows:  # from_site_id: in site_ids, never None
        given[(cast(int, site_id), at.astimezone(LOCAL_TIME).date(), product_id)] += doses
    return given


def walk_ins_for(expectation: Expectation, days: list[date]) -> dict[str, float]:
    """Mean walk-ins per product over the given days (the planner takes one figure a day)."""
    if not days:
        return {}
    totals: dict[str, float] = defaultdict(float)
    for day in days:
        for product, n in expectation.walk_ins.get(WEEKDAYS[day.weekday()], {}).items():
            totals[product] += n
    return {p: math.floor(v / len(days) * 100) / 100 for p, v in totals.items() if v > 0}
