"""The centre manager's day at one vaccination site: what arrives and what the stock backs
(Today), receiving a shipment carton by carton, doses given and wasted, and stock requests.

A centre manager works at their own site; an admin chooses one with ?site=CODE.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from inventory.domain.custody import WASTE_REASONS
from inventory.domain.errors import DomainError, InvalidInput, NotFound
from inventory.domain.uptake import TARGET_GROUPS, canonical_group
from inventory.services import alerts, capacity, catalogue, custody, shipments, stock
from inventory.services.access import require
from inventory.services.appointments import local_today
from inventory.services.common import site_by_code
from inventory.web.core import (
    earlier_submission,
    is_htmx,
    new_form_key,
    remember_submission,
    render_block,
    staff_blueprint,
    target_group_names,
)
from inventory.web.i18n import gettext as _
from inventory.web.i18n import ngettext
from inventory.web.messages import field_errors, message_of
from inventory.web_db import get_session, now, settings

bp = staff_blueprint("centre", __name__)

DAYS_AHEAD = 7  # today and the six days after it
BUD_SHOWN = 12  # cartons in the countdown on the start page
# doses are recorded from these (an expired carton's, as waste), chosen among so many
DOSES_FROM = ("available", "expired")
DOSE_CHOICES = 200
ADMINISTRABLE = ("thawed", "punctured")


def waste_reason_names() -> dict[str, str]:
    return {
        "open_vial": _("Left in an open vial"),
        "expired": _("Lot expired"),
        "bud_passed": _("Past the beyond-use date"),
        "broken": _("Broken or dropped"),
        "excursion": _("Temperature excursion"),
        "recall": _("Recall"),
        "other": _("Other"),
    }


# ---------------------------------------------------------------- the site worked at


def _site():
    """The site the page is about: a centre manager's own; an admin's ?site= (None until
    chosen). Anyone else who cannot see the site named gets a 404."""
    code = request.values.get("site") or g.actor.site_code
    if not code:
        return None
    site = site_by_code(get_session(), code)
    require(g.actor, "receive_shipment", site)
    return site


def _posted_site():
    """The site a form was posted for; an admin's form names it."""
    site = _site()
    if site is None:
        raise NotFound("no site chosen")
    return site


def _here(site) -> dict:
    """What every link and form of these pages carries: the chosen site, for an admin."""
    return {"site": site.code} if g.actor.site_code is None else {}


def _choose_site():
    sites = capacity.sites_in_scope(get_session(), g.actor)
    return render_template(
        "centre/choose.html", sites=sites, endpoint=request.endpoint, view_args=request.view_args
    )


def _render(template: str, site, status: int = 200, **context):
    return render_template(template, site=site, here=_here(site), **context), status


# ---------------------------------------------------------------- today


@bp.get("/today")
def today():
    site = _site()
    if site is None:
        return _choose_site()
    session, at = get_session(), now()
    first = local_today(at)
    sites = capacity.sites_in_scope(session, g.actor, site=site.code)
    ahead = capacity.capacity(session, at, sites, first, first + timedelta(days=DAYS_AHEAD - 1))
    countdown = stock.at_hand(session, g.actor, site.code, limit=BUD_SHOWN)
    opened = stock.at_hand(session, g.actor, site.code, opened_only=True)
    return _render(
        "centre/today.html",
        site,
        incoming=_incoming(site),
        days=[first + timedelta(days=n) for n in range(DAYS_AHEAD)],
        ahead=_by_product(ahead.lines),
        names=_product_names(),
        on_hand=stock.stock_on_hand(session, g.actor, site.code)["lines"],
        countdown=[(c, custody.stock_marks(c, at, _soon())) for c in countdown],
        open_vials=_open_vials(opened, at),
        alerts=list(alerts.list_alerts(session, g.actor, site=site.code, state="open")),
        unit_page="units.unit" in current_app.view_functions,
        at=at,
    )


def _soon() -> int:
    return settings().expiring_soon_days


def _incoming(site) -> list:
    listed = shipments.list_shipments(get_session(), g.actor, site=site.code, status="dispatched")
    return [s for s in listed if s.to_site_id == site.id]


def _by_product(lines) -> dict[str, dict[date, object]]:
    """The capacity lines as product -> day -> line."""
    table: dict[str, dict[date, object]] = {}
    for line in lines:
        table.setdefault(line.product, {})[line.day] = line
    return table


def _product_names() -> dict[str, str]:
    return {p.code: p.name for p in catalogue.list_products(get_session())}


def _open_vials(cartons, at: datetime) -> list[tuple[object, datetime | None, int | None]]:
    """Cartons with an open vial, when that vial must be used by, and the minutes left."""
    clocks = []
    for c in cartons:
        if c.open_vial_doses:
            bud = custody.open_vial_bud(c)
            left = None if bud is None else int((bud - at).total_seconds() // 60)
            clocks.append((c, bud, left))
    return clocks


# ---------------------------------------------------------------- receiving a shipment


@bp.get("/deliveries")
def deliveries():
    site = _site()
    if site is None:
        return _choose_site()
    listed = shipments.list_shipments(get_session(), g.actor, site=site.code)
    to_here = [s for s in listed if s.to_site_id == site.id and s.status != "draft"]
    return _render(
        "centre/deliveries.html",
        site,
        incoming=[s for s in to_here if s.status == "dispatched"],
        received=[s for s in to_here if s.status == "received"][:30],
    )


CARTON_CODE = re.compile(r"^\s*(?:https?://[^/\s]+)?(?:/cartons/)?#?(\d{1,10})/?\s*$")


def carton_in(text: str) -> int | None:
    """The carton a scan names: a label's QR code holds the carton's address
    (https://host/cartons/12); a typed id (12 or #12) is the same carton."""
    match = CARTON_CODE.match(text or "")
    return int(match.group(1)) if match else None


class Delivery:
    """The receiving form as submitted: the cartons ticked off, the rejection reasons typed,
    the storage unit, and what the scan field holds."""

    def __init__(self, shipment, form) -> None:
        self.shipment = shipment
        on_board = {item.carton_id for item in shipment.items}
        self.ticked = {int(v) for v in form.getlist("carton") if v.isdigit()} & on_board
        self.reasons = {
            item.carton_id: (form.get(f"reason-{item.carton_id}") or "").strip()
            for item in shipment.items
        }
        self.storage_unit = form.get("storage_unit") or ""
        self.errors: dict[str, str] = {}
        self.scanned: int | None = None

    def tick(self, scan: str) -> None:
        carton = carton_in(scan)
        if not scan.strip():
            self.errors["scan"] = _("Scan a carton's label or type its number.")
        elif carton is None:
            self.errors["scan"] = _("This is not a carton label.")
        elif carton not in self.reasons:
            self.errors["scan"] = _("Carton %(id)s is not on this shipment.", id=carton)
        else:
            self.ticked.add(carton)
            self.reasons[carton] = ""
            self.scanned = carton

    def items(self) -> list[shipments.DeliveryItem]:
        """Each carton accepted (ticked off) or rejected (a reason given); refused when a
        carton is neither."""
        missing = [c for c in self.reasons if c not in self.ticked and not self.reasons[c]]
        for carton in missing:
            self.errors[f"reason-{carton}"] = _("Tick it off, or give a reason to reject it.")
        if missing:
            raise InvalidInput("every carton accepted or rejected", fields={"items": ["missing"]})
        return [
            shipments.DeliveryItem(c, c in self.ticked, None if c in self.ticked else reason)
            for c, reason in sorted(self.reasons.items())
        ]

    def refused(self, exc: DomainError) -> None:
        if self.errors:
            return  # already beside the cartons concerned
        name = "storage_unit" if "storage_unit" in (exc.fields or {}) else "confirm"
        self.errors[name] = message_of(exc)


def _fridges(site) -> list:
    return [u for u in stock.storage_units_at(get_session(), site) if u.kind != "cool_box"]


@bp.get("/deliveries/<id:shipment_id>")
def delivery(shipment_id: int):
    shipment = shipments.get_shipment(get_session(), g.actor, shipment_id)
    site = shipment.to_site
    require(g.actor, "receive_shipment", site)
    form = Delivery(shipment, request.args)
    units = _fridges(site)
    form.storage_unit = form.storage_unit or (units[0].code if units else "")
    return _delivery_page(form, site, units)


def _delivery_page(form: Delivery, site, units, status: int = 200):
    context = {
        "form": form,
        "shipment": form.shipment,
        "units": units,
        "key": request.form.get("key") or new_form_key(),
        "site": site,
        "here": _here(site),
    }
    if is_htmx():  # htmx swaps 2xx answers only; the errors are in the fragment
        return render_block("centre/delivery.html", "delivery", **context)
    return render_template("centre/delivery.html", **context), status


@bp.post("/deliveries/<id:shipment_id>")
def receive_delivery(shipment_id: int):
    """Tick a scanned carton off (action=tick, also Enter in the scan field), or confirm the
    proof of delivery (action=confirm)."""
    session = get_session()
    done = earlier_submission(request.form.get("key"))
    if done:
        return _go(done)
    shipment = shipments.get_shipment(session, g.actor, shipment_id)
    site = shipment.to_site
    require(g.actor, "receive_shipment", site)
    form = Delivery(shipment, request.form)
    if request.form.get("action") != "confirm":
        form.tick(request.form.get("scan", ""))
        return _delivery_page(form, site, _fridges(site), 422 if form.errors else 200)
    try:
        shipments.receive(
            session, g.actor, now(), shipment_id, storage_unit=form.storage_unit, items=form.items()
        )
    except DomainError as exc:
        session.rollback()
        form.refused(exc)
        return _delivery_page(form, site, _fridges(site), 422)
    location = url_for("centre.delivery", shipment_id=shipment_id, **_here(site))
    remember_submission(request.form.get("key"), location)
    return _go(location)


def _go(location: str):
    """Where a finished form leads: a redirect, or htmx's full-page visit."""
    if is_htmx():
        return "", 204, {"HX-Redirect": location}
    return redirect(location, 303)


# ---------------------------------------------------------------- doses given and wasted


class GivenForm(FlaskForm):
    doses = IntegerField(
        _l("Doses given"),
        validators=[InputRequired(_l("Type the number of doses.")), NumberRange(min=1, max=10000)],
    )
    carton = SelectField(_l("From carton"), coerce=str, validate_choice=False)
    group = SelectField(_l("Target group"))
    key = HiddenField()


class WasteForm(FlaskForm):
    doses = IntegerField(
        _l("Doses wasted"),
        validators=[InputRequired(_l("Type the number of doses.")), NumberRange(min=1, max=10000)],
    )
    carton = SelectField(_l("From carton"), coerce=str, validate_choice=False)
    reason = SelectField(_l("Reason"), validators=[DataRequired(_l("Choose a reason."))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])
    key = HiddenField()


def _dose_cartons(site) -> list:
    """Cartons doses may be taken from: open vials first, then first expiry first."""
    return stock.at_hand(
        get_session(), g.actor, site.code, statuses=DOSES_FROM, open_first=True, limit=DOSE_CHOICES
    )


def _choices(cartons) -> list[tuple[str, str]]:
    return [(str(c.id), _carton_choice(c)) for c in cartons]


def _carton_choice(c) -> str:
    # what tells cartons apart comes first: the product's long name may be cut off
    text = _("#%(id)s · lot %(lot)s · %(doses)s doses", id=c.id, lot=c.lot.number, doses=c.doses)
    if c.open_vial_doses:
        text += " · " + ngettext(
            "open vial: %(num)s dose", "open vial: %(num)s doses", c.open_vial_doses
        )
    return f"{text} · {c.product.name}"


def _dose_forms(site, cartons, *, given=None, wasted=None) -> tuple[GivenForm, WasteForm]:
    given = given or GivenForm(formdata=None, prefix="given")
    wasted = wasted or WasteForm(formdata=None, prefix="waste")
    usable = [c for c in cartons if c.status == "available" and c.state in ADMINISTRABLE]
    given.carton.choices = _choices(usable)
    wasted.carton.choices = _choices(cartons)
    given.group.choices = [(code, target_group_names()[code]) for code in TARGET_GROUPS]
    wasted.reason.choices = [("", _("Choose a reason"))] + [
        (code, waste_reason_names()[code]) for code in WASTE_REASONS
    ]
    chosen = request.args.get("carton")
    for form in (given, wasted):
        if form.carton.data is None and chosen:
            form.carton.data = chosen
        form.key.data = new_form_key()
    if given.group.data is None:
        given.group.data = canonical_group(site.default_target_group) or "other"
    return given, wasted


def _doses_page(site, status: int = 200, *, given=None, wasted=None, focus="given"):
    cartons = _dose_cartons(site)
    given, wasted = _dose_forms(site, cartons, given=given, wasted=wasted)
    at = now()
    return _render(
        "centre/doses.html",
        site,
        status,
        given=given,
        wasted=wasted,
        open_vials=_open_vials(cartons, at),
        done=_done(),
        focus=focus,
        at=at,
        group_names=target_group_names(),
        reason_names=waste_reason_names(),
    )


def _done() -> dict | None:
    """The confirmation of what was just recorded, from the address the form led to."""
    what, carton = request.args.get("done"), request.args.get("carton", type=int)
    if what not in ("given", "wasted") or carton is None:
        return None
    return {
        "what": what,
        "carton": stock.get_carton(get_session(), g.actor, carton),
        "doses": request.args.get("doses", type=int),
        "group": request.args.get("group"),
        "reason": request.args.get("reason"),
    }


@bp.get("/doses")
def doses():
    site = _site()
    if site is None:
        return _choose_site()
    require(g.actor, "administer", site)
    return _doses_page(site, focus=request.args.get("done") or "given")


@bp.post("/doses/given")
def record_given():
    form = GivenForm(prefix="given")
    return _record_doses(
        form,
        "given",
        lambda carton: custody.administer(
            get_session(), g.actor, now(), carton, form.doses.data, group=form.group.data
        ),
        group=form.group.data,
    )


@bp.post("/doses/wasted")
def record_wasted():
    form = WasteForm(prefix="waste")
    return _record_doses(
        form,
        "wasted",
        lambda carton: custody.waste(
            get_session(),
            g.actor,
            now(),
            carton,
            form.doses.data,
            form.reason.data,
            form.note.data or None,
        ),
        reason=form.reason.data,
    )


def _record_doses(form, done: str, record, **shown):
    """One submission of the given or the wasted form: once only, checked, recorded by
    `record(carton_id)`, and back to the page saying what was done (`shown` in its link)."""
    site = _posted_site()
    key = form.key.data  # the rendered form's, before the page is made again
    earlier = earlier_submission(key)
    if earlier:
        return redirect(earlier, 303)
    which = {"given": form} if done == "given" else {"wasted": form}
    _dose_forms(site, _dose_cartons(site), **which)
    if not form.validate():
        return _doses_page(site, 422, focus=done, **which)
    try:
        carton = _carton_id(form)
        record(carton)
    except DomainError as exc:
        get_session().rollback()
        field_errors(form, exc, default=_field_of(exc))
        return _doses_page(site, 422, focus=done, **which)
    location = url_for(
        "centre.doses", done=done, carton=carton, doses=form.doses.data, **shown, **_here(site)
    )
    remember_submission(key, location)
    return redirect(location, 303)


def _carton_id(form) -> int:
    value = form.carton.data or ""
    if not value.isdigit():
        raise InvalidInput(_("Choose a carton."), fields={"carton": ["required"]})
    return int(value)


def _field_of(exc: DomainError) -> str:
    """The field a refusal naming no field is about: too many doses is the number's."""
    return "doses" if exc.code == "insufficient_doses" else "carton"


# ---------------------------------------------------------------- stock requests


class RequestForm(FlaskForm):
    product = SelectField(_l("Product"), validators=[DataRequired(_l("Choose a product."))])
    doses = IntegerField(
        _l("Doses"),
        validators=[
            InputRequired(_l("Type the number of doses.")),
            NumberRange(min=1, max=1_000_000),
        ],
    )
    needed_on = DateField(_l("Needed on"), validators=[InputRequired(_l("Choose a date."))])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])
    key = HiddenField()


def _products(form: RequestForm) -> RequestForm:
    form.product.choices = [("", _("Choose a product"))] + [
        (p.code, p.name) for p in catalogue.list_products(get_session())
    ]
    return form


def _requests_page(site, form: RequestForm, status: int = 200):
    session = get_session()
    form.key.data = new_form_key()
    listed = sorted(
        shipments.list_requests(session, g.actor, site=site.code),
        key=lambda r: r.created_at,
        reverse=True,
    )
    serving = {
        s.request_id: s
        for s in shipments.list_shipments(session, g.actor, site=site.code)
        if s.request_id is not None
    }
    return _render(
        "centre/requests.html",
        site,
        status,
        form=form,
        requests=listed,
        serving=serving,
        made=request.args.get("made", type=int),
    )


@bp.get("/centre/requests")
def stock_requests():
    site = _site()
    if site is None:
        return _choose_site()
    require(g.actor, "request.create", site)
    form = _products(RequestForm(formdata=None))
    form.needed_on.data = local_today(now()) + timedelta(days=1)
    return _requests_page(site, form)


@bp.post("/centre/requests")
def create_request():
    site = _posted_site()
    form = _products(RequestForm())
    key = form.key.data
    done = earlier_submission(key)
    if done:
        return redirect(done, 303)
    if not form.validate():
        return _requests_page(site, form, 422)
    try:
        made = shipments.create_request(
            get_session(),
            g.actor,
            now(),
            site=site.code,
            product=form.product.data,
            doses=form.doses.data,
            needed_on=form.needed_on.data,
            note=form.note.data or None,
        )
    except DomainError as exc:
        get_session().rollback()
        field_errors(form, exc, default="doses")
        return _requests_page(site, form, 422)
    location = url_for("centre.stock_requests", made=made.id, **_here(site))
    remember_submission(key, location)
    return redirect(location, 303)
