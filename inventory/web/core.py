"""What every staff page shares: who is signed in (the same Actor an API token gives), the
session's idle and absolute limits, the commit after a view succeeded, error pages, forms
that must not be submitted twice, and rendering a template's block alone for htmx.

A staff area makes its blueprint with `staff_blueprint(...)` and gets all of this.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from inventory.db.people import FormSubmission, User
from inventory.db.session import ConcurrentUpdate
from inventory.domain.errors import DomainError, Forbidden, NotFound
from inventory.services.alerts import SILENT_AFTER_INTERVALS
from inventory.services.users import actor_of, user_for_session
from inventory.web import COOKIELESS_BLUEPRINTS, csrf
from inventory.web.i18n import gettext as _
from inventory.web.messages import message_of
from inventory.web_db import get_session, now, transactional

IDLE_LIMIT = timedelta(minutes=30)
ABSOLUTE_LIMIT = timedelta(hours=12)

# Where each role starts; the first endpoint that exists wins (areas are added over time).
HOME = {
    "admin": ("stock.index",),
    "pharmacist": ("stock.index",),
    "centre_manager": ("centre.today", "stock.index"),
    "coordinator": ("region.overview", "stock.index"),
    "auditor": ("region.overview", "stock.index"),
}

# The navigation: (endpoint, label, roles). An area adds its entry here; entries whose
# endpoint is not registered (yet) are not shown.
PHARMACY = ("admin", "pharmacist")
READERS = ("admin", "coordinator", "auditor", "pharmacist")  # who reads region figures
EVERYONE = ("admin", "pharmacist", "centre_manager", "coordinator", "auditor")
NAV = [
    ("centre.today", _l("Today"), ("centre_manager",)),
    ("region.overview", _l("Overview"), ("coordinator", "auditor", "admin")),
    ("stock.index", _l("Stock"), EVERYONE),
    ("receiving.receive_page", _l("Receive"), ("admin", "pharmacist", "centre_manager")),
    ("repack.index", _l("Thaw and repack"), PHARMACY),
    ("shipments.index", _l("Shipments"), PHARMACY),
    ("holds.index", _l("Holds"), ("admin", "pharmacist", "centre_manager")),
    ("requests.index", _l("Requests"), PHARMACY),
    ("plans.index", _l("Plans"), ("admin", "pharmacist", "coordinator")),
    ("recall.index", _l("Recall"), PHARMACY),
    ("units.index", _l("Fridges"), EVERYONE),
    ("coordination.uptake_page", _l("Uptake"), READERS),
    ("coordination.waste_page", _l("Waste and stock"), READERS),
    ("sites.index", _l("Sites"), ("admin", "coordinator", "auditor")),
    ("users.index", _l("Users"), ("admin",)),
]


def role_name(role: str) -> str:
    return {
        "admin": _("Administrator"),
        "pharmacist": _("Pharmacist"),
        "centre_manager": _("Centre manager"),
        "coordinator": _("Coordinator"),
        "auditor": _("Auditor"),
    }.get(role, role)


def unit_kind(kind: str) -> str:
    return {
        "ultra_low_freezer": _("ultra-low freezer"),
        "freezer": _("freezer"),
        "fridge": _("fridge"),
        "cool_box": _("cool box"),
    }.get(kind, kind)


def target_group_names() -> dict[str, str]:
    """The programme's target groups as people say them (85+ is its own group, so
    65+ is 65-84)."""
    return {
        "nursing_home": _("Nursing home"),
        "85+": _("85 and over"),
        "65+": _("65–84"),
        "50-64": _("50–64"),
        "risk": _("Risk group"),
        "staff": _("Staff"),
        "pregnant": _("Pregnant"),
        "child_2_6": _("Child 2–6"),
        "other": _("Other"),
    }


def N_(message: str) -> str:
    """Marks a text for translation where it is written; it is translated where shown."""
    return message


# a page of stock names a state or status per carton: each name is translated alone
STATE_LABELS = {
    "ultra_frozen": N_("Ultra-frozen"),
    "frozen": N_("Frozen"),
    "thawed": N_("Thawed"),
    "punctured": N_("Open vial"),
}
STATUS_LABELS = {
    "available": N_("Available"),
    "in_transit": N_("In transit"),
    "held": N_("Held"),
    "expired": N_("Expired"),
    "consumed": N_("Used up"),
    "discarded": N_("Discarded"),
}


def state_label(state: str) -> str:
    return _(STATE_LABELS[state]) if state in STATE_LABELS else state


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def site_kind(kind: str) -> str:
    return {
        "supplier": _("Supplier"),
        "hospital_pharmacy": _("Hospital pharmacy"),
        "vaccination_centre": _("Vaccination centre"),
        "gp_practice": _("GP practice"),
        "mobile_unit": _("Mobile unit"),
    }.get(kind, kind)


def alert_text(alert) -> str:
    """What an alert says, in the page's language, from its kind and details (the stored
    message is the English one the API and the webhooks carry)."""
    details = alert.details or {}
    unit = alert.storage_unit.code if alert.storage_unit else ""
    if alert.kind == "excursion_started":
        hot = details.get("direction") == "hot"
        return _("%(unit)s: too warm", unit=unit) if hot else _("%(unit)s: too cold", unit=unit)
    if alert.kind == "excursion_alarm":
        rule = (details.get("rule") or {}).get("name", "")
        return _(
            "%(unit)s: the rule “%(rule)s” fired; the unit's stock is on hold", unit=unit, rule=rule
        )
    if alert.kind == "excursion_ended" and "out_of_range_s" in details:
        minutes = round(details["out_of_range_s"] / 60)
        return _("%(unit)s: back in range after %(min)s min out of range", unit=unit, min=minutes)
    if alert.kind == "battery_low" and "battery" in details:
        level = round(details["battery"] * 100)
        return _("Logger %(device)s: battery at %(level)s %%", device=alert.device_id, level=level)
    if alert.kind == "device_silent":
        return _(
            "Logger %(device)s in %(unit)s has sent nothing for %(n)s of its intervals",
            device=alert.device_id,
            unit=unit,
            n=SILENT_AFTER_INTERVALS,
        )
    return alert.message


def event_name(kind: str) -> str:
    """A custody ledger event as people say it."""
    return {
        "receive": _("received"),
        "thaw": _("thawed"),
        "repack_out": _("repacked out"),
        "repack_in": _("repacked in"),
        "dispatch": _("dispatched"),
        "receive_shipment": _("received from shipment"),
        "administer": _("administered"),
        "waste": _("wasted"),
        "hold": _("held"),
        "release": _("released"),
        "discard": _("discarded"),
    }.get(kind, kind)


def navigation() -> list[tuple[str, str]]:
    user = g.get("user")
    if user is None:
        return []
    return [
        (url_for(endpoint), label)
        for endpoint, label, roles in NAV
        if user.role in roles and endpoint in current_app.view_functions
    ]


# ---------------------------------------------------------------- the signed-in person


def start_session(user: User) -> None:
    session.clear()
    session.permanent = True
    stamp = now().timestamp()
    session.update(uid=user.id, epoch=user.session_epoch, since=stamp, seen=stamp)


def end_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _load_person() -> None:
    """Before every request outside the API: the person behind the cookie, if the session
    is still alive (30 minutes idle, 12 hours at most, same password and rights)."""
    g.user = None
    if (
        request.blueprint in ("api", *COOKIELESS_BLUEPRINTS)
        or request.endpoint == "static"
        or "uid" not in session
    ):
        return
    at = now().timestamp()
    since, seen = session.get("since", 0), session.get("seen", 0)
    if at - seen > IDLE_LIMIT.total_seconds() or at - since > ABSOLUTE_LIMIT.total_seconds():
        end_session()
        g.session_expired = True
        return
    user = user_for_session(get_session(), session["uid"], session.get("epoch", -1))
    if user is None:
        end_session()
        return
    session["seen"] = at
    g.user = user
    g.actor = actor_of(user)


def home_url(user: User) -> str:
    for endpoint in HOME.get(user.role, ()):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("auth.account")


# ---------------------------------------------------------------- staff blueprints


def staff_blueprint(name: str, import_name: str, *, public: tuple[str, ...] = ()) -> Blueprint:
    """A blueprint whose pages need a signed-in person (except the views named in `public`),
    committed after success and rolled back otherwise, with HTML error pages."""
    bp = Blueprint(name, import_name)
    protect_forms(bp)

    @bp.before_request
    def require_person():
        if g.get("user") is None and request.endpoint not in {f"{name}.{v}" for v in public}:
            if request.headers.get("HX-Request"):
                return "", 401, {"HX-Redirect": url_for("auth.login")}
            return redirect(url_for("auth.login", next=_next_target()))
        return None

    transactional(bp)
    bp.register_error_handler(DomainError, _domain_error)
    return bp


def protect_forms(bp: Blueprint) -> None:
    """Refuse (400, nothing changed) any POST of `bp` without this session's CSRF token."""

    @bp.before_request
    def check_csrf_token():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()


def _next_target() -> str | None:
    return request.full_path if request.method == "GET" else None


def _domain_error(exc: DomainError):
    replay = _replay_submission() if exc.code == "conflict" else None
    if replay is not None:  # the twin of a form already submitted lost the race to it
        return replay
    if isinstance(exc, ConcurrentUpdate):
        return error_page(409, _("Someone else changed this stock at the same moment. Reload."))
    if isinstance(exc, NotFound):
        return error_page(404, _("Not found."))
    if isinstance(exc, Forbidden):
        return error_page(403, _("You may not do this."))
    return error_page(exc.http_status, message_of(exc))


def error_page(status: int, message: str):
    return render_template("error.html", status=status, message=message), status


# ---------------------------------------------------------------- forms submitted once


def new_form_key() -> str:
    """A fresh key for each rendered form that changes stock."""
    return secrets.token_hex(16)


def earlier_submission(key: str | None) -> str | None:
    """Where the first submission of this rendered form led, if it was already done."""
    if not key or g.get("user") is None:
        return None
    return get_session().scalar(
        select(FormSubmission.location).where(
            FormSubmission.user_id == g.user.id, FormSubmission.key == key[:64]
        )
    )


def remember_submission(key: str | None, location: str) -> None:
    """Record the outcome with the work itself; a concurrent twin fails on the unique key."""
    if not key:
        return
    g.submission_key = key[:64]
    get_session().add(
        FormSubmission(user_id=g.user.id, key=key[:64], location=location, created_at=now())
    )


def _replay_submission():
    key = g.pop("submission_key", None)
    if key:
        get_session().rollback()
    location = earlier_submission(key) if key else None
    return redirect(location, 303) if location else None


# ---------------------------------------------------------------- rendering


def render_block(template_name: str, block: str, **context) -> str:
    """One block of a page template rendered alone (the htmx fragment of that page).
    The block must import the macros it uses itself: the template's top is not run."""
    env = current_app.jinja_env
    template = env.get_or_select_template(template_name)
    current_app.update_template_context(context)
    return "".join(template.blocks[block](template.new_context(context)))


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def init_app(app: Flask) -> None:
    app.before_request(_load_person)
    # globals, not context: the macros that name states are imported without a context
    app.add_template_global(state_label)
    app.add_template_global(status_label)

    @app.errorhandler(CSRFError)
    def csrf_refused(exc):
        if request.blueprint == "api":
            return exc
        return error_page(400, _("The form was out of date or not ours. Reload and try again."))

    @app.context_processor
    def person():
        return {
            "user": g.get("user"),
            "actor": g.get("actor"),
            "navigation": navigation,
            "role_name": role_name,
            "unit_kind": unit_kind,
            "site_kind": site_kind,
            "alert_text": alert_text,
            "event_name": event_name,
        }
