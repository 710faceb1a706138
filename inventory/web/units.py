"""Fridges: every storage unit a person may see with its newest reading, and a unit's page:
its temperatures over a period (raw readings, or each hour's minimum and maximum for long
periods), the allowed range, its excursions, and its alerts acknowledged with a comment."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g, jsonify, redirect, render_template, request, url_for

from inventory.domain.errors import Conflict, InvalidInput
from inventory.services import alerts, monitoring, overview
from inventory.services.paging import PageRequest
from inventory.web.core import staff_blueprint
from inventory.web.filters import COPENHAGEN
from inventory.web.i18n import gettext as _
from inventory.web.messages import message_of
from inventory.web_db import get_session, now

bp = staff_blueprint("units", __name__)

PERIODS = (1, 7, 30)  # the quick choices, in days
MAX_DAYS = 366
EXCURSION_MARGIN = timedelta(hours=2)  # an excursion's chart shows this much either side


@bp.get("/units")
def index():
    site = request.args.get("site")
    # a person with a site starts at their own site's units; "all" is every unit they see
    if site is None:
        site = g.actor.site_code
    elif site.strip().lower() in ("", "all", "alle"):
        site = None
    rows = overview.unit_board(get_session(), g.actor, now(), site=site)
    return render_template("units/index.html", rows=rows, site=site)


@bp.get("/units/<code>")
def unit(code: str, errors: dict | None = None, comments: dict | None = None, status: int = 200):
    session = get_session()
    start, end = period()
    chart = overview.unit_chart(session, g.actor, code, start, end, now())
    site = chart.unit.site
    return render_template(
        "units/unit.html",
        chart=chart,
        days=request.args.get("days", type=int),
        periods=PERIODS,
        alerts=overview.unit_alerts(session, g.actor, code),
        excursions=monitoring.list_excursions(
            session, g.actor, storage_unit=code, page=PageRequest(100)
        ),
        may_ack=g.actor.may("alert.ack") and g.actor.acts_at(site, "alert.ack"),
        errors=errors or {},
        comments=comments or {},
        chart_src=url_for("units.chart_data", code=code, **period_args()),
        chart_margin=EXCURSION_MARGIN,
    ), status


@bp.get("/units/<code>/chart.json")
def chart_data(code: str):
    """The chart's series: raw readings, or per bucket the minimum and maximum (never an
    average), with the allowed range and the excursions; times as Unix seconds."""
    start, end = period()
    chart = overview.unit_chart(get_session(), g.actor, code, start, end, now())
    body = {
        "unit": chart.unit.code,
        "from": chart.start.isoformat(),
        "to": chart.end.isoformat(),
        "resolution": chart.resolution,
        "allowed": [chart.unit.min_c, chart.unit.max_c],
        "min_c": chart.min_c,
        "max_c": chart.max_c,
        "excursions": [
            {
                "start": e.started_at.timestamp(),
                "end": e.ended_at.timestamp() if e.ended_at else None,
                "direction": e.direction,
                "min_c": e.min_c,
                "max_c": e.max_c,
            }
            for e in chart.excursions
        ],
    }
    if chart.resolution == "raw":
        body["x"] = [ts.timestamp() for ts, _c in chart.points]
        body["c"] = [c for _ts, c in chart.points]
    else:
        body["x"] = [ts.timestamp() for ts, _lo, _hi in chart.bands]
        body["low"] = [lo for _ts, lo, _hi in chart.bands]
        body["high"] = [hi for _ts, _lo, hi in chart.bands]
    return jsonify(body)


@bp.post("/units/<code>/alerts/<id:alert_id>/ack")
def acknowledge(code: str, alert_id: int):
    """Acknowledge an alert; the comment (what was done) is required."""
    comment = (request.form.get("comment") or "").strip()
    try:
        alerts.acknowledge(get_session(), g.actor, now(), alert_id, comment)
    except (InvalidInput, Conflict) as exc:
        get_session().rollback()
        message = _("Say what was done.") if "comment" in (exc.fields or {}) else _refusal(exc)
        return unit(code, errors={alert_id: message}, comments={alert_id: comment}, status=422)
    return redirect(url_for("units.unit", code=code, _anchor=f"alert-{alert_id}"), 303)


def _refusal(exc) -> str:
    if exc.code == "already_acknowledged":
        return _("Someone acknowledged this alert already.")
    return message_of(exc)


# ---------------------------------------------------------------- the period shown


def period() -> tuple[datetime | None, datetime | None]:
    """`?from=...&to=...` (Copenhagen time, as the carton page links them) or `?days=`;
    the last 24 hours otherwise."""
    args = request.args
    start, end = _moment(args.get("from"), "from"), _moment(args.get("to"), "to")
    days = args.get("days", type=int)
    if days is not None and start is None:
        if not 1 <= days <= MAX_DAYS:
            raise InvalidInput(
                _("Choose between 1 and %(n)s days.", n=MAX_DAYS), fields={"days": ["range"]}
            )
        start = (end or now()) - timedelta(days=days)
    return start, end


def period_args() -> dict:
    return {k: request.args[k] for k in ("from", "to", "days") if request.args.get(k)}


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            _("Write the time as YYYY-MM-DDTHH:MM."), fields={name: ["invalid"]}
        ) from None
    return moment.replace(tzinfo=COPENHAGEN) if moment.tzinfo is None else moment
