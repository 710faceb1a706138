"""Uptake against the programme's goals: coordinators read it (their region), admins replace
the population denominators and the goals."""

from __future__ import annotations

from flask import Response, g

from inventory.api import api, body, responses
from inventory.api.contract import operation
from inventory.api.schemas import GoalsSchema, PopulationSchema, UptakeQuery
from inventory.services import uptake
from inventory.web_db import get_session, now


@api.get("/uptake")
@operation(responses.Uptake, query=UptakeQuery)
def get_uptake(args):
    """Doses given per municipality (or region: ``by=region``) and target group, weekly and in
    total, against the population and the goals. A coordinator sees their own region."""
    return uptake.report(
        get_session(), g.actor, by=args.get("by", "municipality"), region=args.get("region")
    )


@api.get("/uptake.csv")
@operation(html=True, media="text/csv", query=UptakeQuery)
def get_uptake_csv(args):
    """The weekly figures as CSV (area, name, region, week, group, doses, cumulative)."""
    text = uptake.report_csv(
        get_session(), g.actor, by=args.get("by", "municipality"), region=args.get("region")
    )
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="uptake.csv"'},
    )


@api.get("/uptake/goals")
@operation(responses.Goals)
def get_goals():
    """The programme's uptake goals."""
    return {"goals": [uptake.goal_json(goal) for goal in uptake.goals_of(get_session())]}


@api.put("/uptake/goals")
@operation(responses.Goals)
@body(GoalsSchema)
def put_goals(data):
    """Replace the uptake goals (admin; audited)."""
    goals = [uptake.goal_from(item) for item in data["goals"]]
    stored = uptake.replace_goals(get_session(), g.actor, now(), goals)
    return {"goals": [uptake.goal_json(goal) for goal in stored]}


@api.put("/population")
@operation(responses.PopulationStored)
@body(PopulationSchema)
def put_population(data):
    """Replace population figures (admin): rows of municipality_code, group (85+, 65-84,
    50-64, 2-6) and population, e.g. from Statistics Denmark's FOLK1A."""
    rows = [(r["municipality_code"], r["group"], r["population"]) for r in data["rows"]]
    return {"rows": uptake.replace_population(get_session(), g.actor, now(), rows)}
