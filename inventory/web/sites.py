"""Sites as citizens find them: the list of sites with what the public page shows of each, and
the admins' form for a site's address, opening hours, slots, drop-in, booking link and
accessibility notes, and for the national booking link.

The form's answers are checked by the API's own schema for a site's details, so a rule (a
Danish postcode, coordinates in Denmark, opening hours that do not overlap) is written once.
"""

from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from inventory.api.schemas import BookingUrlSchema, SitePatchSchema
from inventory.db.models import Site
from inventory.domain import geo
from inventory.domain.errors import DomainError
from inventory.domain.sites import WEEKDAYS
from inventory.domain.uptake import TARGET_GROUPS
from inventory.presentation import site_json
from inventory.seed_data import REGIONS
from inventory.services import catalogue
from inventory.services.access import require
from inventory.services.appointments import VACCINATION_SITE_KINDS
from inventory.services.common import site_by_code
from inventory.web.core import staff_blueprint, target_group_names
from inventory.web.i18n import gettext as _
from inventory.web.messages import field_errors
from inventory.web_db import get_session, now

bp = staff_blueprint("sites", __name__)

TEXT_FIELDS = ("name", "address", "postcode", "town", "booking_url", "accessibility")
NUMBER_FIELDS = ("lat", "lon", "slots_per_hour")
# "08:00-12:00, 13:00-16:00"
_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def weekday_names() -> dict[str, str]:
    return {
        "mon": _("Monday"),
        "tue": _("Tuesday"),
        "wed": _("Wednesday"),
        "thu": _("Thursday"),
        "fri": _("Friday"),
        "sat": _("Saturday"),
        "sun": _("Sunday"),
    }


class SiteForm(FlaskForm):
    name = StringField(_l("Name"))
    address = StringField(_l("Address"))
    postcode = StringField(_l("Postcode"))
    town = StringField(_l("Town"))
    municipality = SelectField(_l("Municipality"))
    lat = StringField(_l("Latitude"))
    lon = StringField(_l("Longitude"))
    slots_per_hour = StringField(_l("People vaccinated per hour"))
    drop_in = BooleanField(_l("Drop-in without an appointment"))
    booking_url = StringField(_l("Booking link (empty: the national one)"))
    accessibility = TextAreaField(_l("Accessibility"))
    default_target_group = SelectField(_l("Target group when none is given"))
    mon = StringField(_l("Monday"))
    tue = StringField(_l("Tuesday"))
    wed = StringField(_l("Wednesday"))
    thu = StringField(_l("Thursday"))
    fri = StringField(_l("Friday"))
    sat = StringField(_l("Saturday"))
    sun = StringField(_l("Sunday"))


class BookingUrlForm(FlaskForm):
    url = StringField(_l("National booking link"))


@bp.get("/sites")
def index():
    session = get_session()
    form = BookingUrlForm(url=catalogue.national_booking_url(session))
    return _list(session, form, request.args.get("region") or None)


def _list(session, booking_form: BookingUrlForm, region: str | None, status: int = 200):
    query = select(Site).where(g.actor.sees_site_id(Site.id)).order_by(Site.region, Site.code)
    if region:
        query = query.where(Site.region == region)
    return render_template(
        "sites/index.html",
        sites=[site_json(s) for s in session.scalars(query)],
        regions=REGIONS,
        region=region,
        may_edit=g.actor.may("catalogue.write"),
        public_kinds=VACCINATION_SITE_KINDS,
        national=catalogue.national_booking_url(session),
        booking_form=booking_form,
    ), status


@bp.route("/sites/<code>/edit", methods=["GET", "POST"])
def edit(code: str):
    require(g.actor, "catalogue.write")
    session = get_session()
    site = site_by_code(session, code)
    form = _choices(SiteForm(data=None if request.method == "POST" else _form_data(site)))
    if form.validate_on_submit():
        changes = _changes(form)
        if changes is not None:
            try:
                catalogue.update_site(session, g.actor, now(), code, changes)
            except DomainError as exc:
                field_errors(form, exc, default="name")
            else:
                flash(_("Saved: %(site)s.", site=site.name))
                return redirect(url_for("sites.index", region=site.region), 303)
    status = 422 if form.errors or _has_errors(form) else 200
    return render_template("sites/edit.html", site=site, form=form, weekdays=WEEKDAYS), status


@bp.post("/sites/booking-url")
def booking_url():
    require(g.actor, "catalogue.write")
    session = get_session()
    form = BookingUrlForm()
    if form.validate_on_submit():
        try:
            url = BookingUrlSchema().load({"url": form.url.data.strip() or None})["url"]
        except ValidationError as exc:
            form.url.errors = list(_messages(exc.messages.get("url")))
        else:
            catalogue.set_national_booking_url(session, g.actor, now(), url)
            flash(_("The national booking link is saved."))
            return redirect(url_for("sites.index"), 303)
    return _list(session, form, None, 422)


def _choices(form: SiteForm) -> SiteForm:
    towns = sorted(geo.municipalities().values(), key=lambda m: m.name)
    form.municipality.choices = [SelectChoice("", _("(none)"))] + [
        SelectChoice(m.code, f"{m.name} ({m.code})") for m in towns
    ]
    names = target_group_names()
    form.default_target_group.choices = [SelectChoice("", _("(none)"))] + [
        SelectChoice(group, names[group]) for group in TARGET_GROUPS
    ]
    return form


def _form_data(site: Site) -> dict:
    details = site_json(site)
    data = {
        name: "" if details.get(name) is None else str(details[name])
        for name in (*TEXT_FIELDS, *NUMBER_FIELDS)
    }
    hours = details.get("opening_hours") or {}
    data.update({day: ", ".join(f"{a}-{b}" for a, b in hours.get(day, [])) for day in WEEKDAYS})
    data["municipality"] = details.get("municipality") or ""
    data["default_target_group"] = details.get("default_target_group") or ""
    data["drop_in"] = bool(details.get("drop_in"))
    return data


def _changes(form: SiteForm) -> dict | None:
    """The form as the API's PATCH body, checked by its schema; None (and messages beside
    the fields) when something is wrong. An empty field clears the detail."""
    raw: dict = {name: (getattr(form, name).data or "").strip() or None for name in TEXT_FIELDS}
    raw["name"] = raw["name"] or form.name.data  # a name is never cleared
    raw["municipality"] = form.municipality.data or None
    raw["default_target_group"] = form.default_target_group.data or None
    raw["drop_in"] = bool(form.drop_in.data)
    raw["opening_hours"] = _opening_hours(form)
    for name in NUMBER_FIELDS:
        raw[name] = _number(form, name)
    if _has_errors(form):
        return None
    try:
        return SitePatchSchema().load(raw)
    except ValidationError as exc:
        _place(form, exc.messages)
        return None


def _opening_hours(form: SiteForm) -> dict:
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        field = getattr(form, day)
        text = (field.data or "").strip()
        intervals = [part for part in text.split(",") if part.strip()] if text else []
        matches = [_INTERVAL.match(part) for part in intervals]
        if not all(matches):
            field.errors = [_("Write opening hours as 08:00-16:00, several with commas.")]
            continue
        hours[day] = [[_hhmm(m.group(1)), _hhmm(m.group(2))] for m in matches if m]
    return hours


def _hhmm(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"


def _number(form: SiteForm, name: str) -> float | int | None:
    field = getattr(form, name)
    text = (field.data or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return int(text) if name == "slots_per_hour" else float(text)
    except ValueError:
        field.errors = [_("Not a number.")]
        return None


def _place(form: SiteForm, messages: dict) -> None:
    """The schema's messages beside their fields (opening hours beside each weekday named)."""
    for name, problems in messages.items():
        if name == "opening_hours":
            for text in _messages(problems):
                day = text.split(":", 1)[0]
                field = getattr(form, day, None) if day in WEEKDAYS else form.mon
                field.errors = [*_as_list(field.errors), text]
            continue
        field = getattr(form, name, None) or form.name
        field.errors = [*_as_list(field.errors), *_messages(problems)]


def _messages(problems) -> list[str]:
    if isinstance(problems, dict):
        return [text for value in problems.values() for text in _messages(value)]
    if isinstance(problems, list | tuple):
        return [_in_words(str(p)) for p in problems]
    return [_in_words(str(problems))] if problems else []


def _in_words(message: str) -> str:
    """The schema's refusals in the page's language (the API answers in English)."""
    known = {
        "four digits": _("Four digits."),
        "not in Denmark": _("Not in Denmark."),
        "an http(s) address": _("An address beginning with http:// or https://."),
        "not a municipality code (four digits, e.g. 0101)": _("Not a municipality."),
        "give latitude and longitude together": _("Give latitude and longitude together."),
    }
    for english, words in known.items():
        if message.startswith(english):
            return words
    if message.endswith("closes before it opens"):
        return _("%(hours)s: closes before it opens.", hours=message.split(": ", 1)[-1][:11])
    if message.endswith("overlaps the interval before"):
        return _("%(hours)s: overlaps the hours before.", hours=message.split(": ", 1)[-1][:11])
    return message


def _as_list(errors) -> list:
    return list(errors) if isinstance(errors, list | tuple) else []


def _has_errors(form: SiteForm) -> bool:
    return any(isinstance(f.errors, list | tuple) and f.errors for f in form)
