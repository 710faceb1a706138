"""Allocation plans: propose one for the pharmacy (or the region), read its projected waste,
unmet appointments by group and fill-the-vial offers, approve it, and see the thaw tasks it
made."""

from __future__ import annotations

from datetime import date, timedelta

from flask import g, redirect, render_template, request, url_for

from inventory.domain.errors import DomainError, InvalidInput
from inventory.services import planning
from inventory.services.access import require
from inventory.services.appointments import local_today
from inventory.web.core import (
    earlier_submission,
    new_form_key,
    remember_submission,
    staff_blueprint,
)
from inventory.web.i18n import gettext as _
from inventory.web.messages import message_of
from inventory.web_db import get_session, now

bp = staff_blueprint("plans", __name__)

METHODS = ("optimal", "fefo")


@bp.get("/plans")
def index(error: str | None = None, status: int = 200):
    require(g.actor, "plan")
    session = get_session()
    return render_template(
        "plans/index.html",
        plans=planning.list_plans(session, g.actor)[:50],
        region_plans=planning.list_region_plans(session, g.actor)[:20],
        today=local_today(now()),
        pharmacy=g.actor.site_code or "",
        region=g.actor.region or "",
        error=error,
        key=new_form_key(),
    ), status


@bp.post("/plans")
def propose():
    session = get_session()
    done = earlier_submission(request.form.get("key"))
    if done:
        return redirect(done, 303)
    try:
        start, days, method = _horizon(request.form)
        if request.form.get("scope") == "region":
            made = planning.create_region_plan(
                session,
                g.actor,
                now(),
                region=request.form.get("region", ""),
                start=start,
                days=days,
                method=method,
            )
            location = url_for("plans.region_plan", region_plan_id=made.id)
        else:
            plan = planning.create_plan(
                session,
                g.actor,
                now(),
                pharmacy=request.form.get("pharmacy", ""),
                start=start,
                days=days,
                method=method,
            )
            location = url_for("plans.show", plan_id=plan.id)
    except DomainError as exc:
        session.rollback()
        return index(error=message_of(exc), status=422)
    remember_submission(request.form.get("key"), location)
    return redirect(location, 303)


def _horizon(form) -> tuple[date, int, str]:
    try:
        start = date.fromisoformat(form.get("start", ""))
        days = int(form.get("days", ""))
    except ValueError:
        raise InvalidInput(_("Give a start date and a number of days."), fields={}) from None
    method = form.get("method", "optimal")
    if method not in METHODS:
        raise InvalidInput(_("Choose a method."), fields={"method": ["unknown"]})
    return start, days, method


@bp.get("/plans/<id:plan_id>")
def show(plan_id: int):
    session = get_session()
    plan = planning.get_plan(session, g.actor, plan_id)
    tasks = [
        t
        for t in planning.list_thaw_tasks(session, g.actor, site=plan.pharmacy.code)
        if t.plan_id == plan.id
    ]
    return render_template(
        "plans/show.html",
        plan=plan,
        result=plan.result or {},
        totals=planning.totals_of([plan]),
        tasks=tasks,
        drafts=[link.shipment_id for link in plan.shipment_links if link.shipment_id],
        may_approve=g.actor.may("plan.approve"),
        end=plan.start + timedelta(days=plan.days - 1),
    )


@bp.post("/plans/<id:plan_id>/approve")
def approve(plan_id: int):
    planning.approve_plan(get_session(), g.actor, now(), plan_id)
    return redirect(url_for("plans.show", plan_id=plan_id), 303)


@bp.get("/region-plans/<id:region_plan_id>")
def region_plan(region_plan_id: int):
    made = planning.get_region_plan(get_session(), g.actor, region_plan_id)
    totals = planning.region_totals(made)
    return render_template(
        "plans/region.html",
        region_plan=made,
        totals=totals,
        may_approve=g.actor.may("plan.approve"),
    )


@bp.post("/region-plans/<id:region_plan_id>/approve")
def approve_region(region_plan_id: int):
    planning.approve_region_plan(get_session(), g.actor, now(), region_plan_id)
    return redirect(url_for("plans.region_plan", region_plan_id=region_plan_id), 303)
