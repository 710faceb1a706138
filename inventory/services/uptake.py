"""Uptake: who was vaccinated (by target group and municipality, never by person) against the
population and the programme's goals.

Each administration is recorded with the group the client names, else the site's default
group, else ``other``; with the site's municipality and region as they are that day. The
denominators (population per municipality and band) and the goals are data: seeded from the
package's CSV files, replaceable through the API or the CLI.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from inventory.db.models import Carton, CustodyEvent, Site
from inventory.db.uptake import Administration, Population, UptakeGoal
from inventory.domain import geo
from inventory.domain.errors import InvalidInput
from inventory.domain.stability import LOCAL_TIME
from inventory.domain.uptake import (
    POPULATION_GROUPS,
    TARGET_GROUPS,
    Goal,
    canonical_group,
    rate,
    standing,
    suppressed,
    week_of,
)
from inventory.services.access import Actor, require
from inventory.services.common import audit

POPULATION_FILE = "population_2024.csv"
GOALS_FILE = "uptake_goals.csv"


# ---------------------------------------------------------------- recording


def group_for(site: Site, group: str | None) -> str:
    """The target group an administration counts under; refuses a group not in the
    programme's list (with the list), so a typo is not counted as ``other``."""
    if group is not None and group != "":
        found = canonical_group(group)
        if found is None:
            raise InvalidInput(
                f"unknown target group {group!r}",
                fields={"group": [f"one of {', '.join(TARGET_GROUPS)}"]},
            )
        return found
    return canonical_group(site.default_target_group) or "other"


def record_administration(
    session: Session, event: CustodyEvent, carton: Carton, group: str, now: datetime
) -> Administration:
    site = carton.site
    row = Administration(
        custody_event_id=event.id,
        site_id=site.id,
        product_id=carton.product_id,
        at=now,
        day=now.astimezone(LOCAL_TIME).date(),
        region=site.region,
        municipality_code=site.municipality_code,
        target_group=group,
        doses=event.doses,
    )
    session.add(row)
    return row


# ---------------------------------------------------------------- denominators and goals


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if not line.startswith("#")]
    reader = csv.DictReader(line for _, line in lines)
    return [(lines[i + 1][0], row) for i, row in enumerate(reader)]


def parse_population(text: str) -> list[tuple[str, str, int]]:
    """(municipality code, band, population) rows from CSV text with the columns
    ``municipality_code,group,population``; every bad row is reported by its line."""
    errors: dict[str, list[str]] = {}
    rows = []
    known = geo.municipalities()
    for line, row in _rows(text):
        code, band = (row.get("municipality_code") or "").strip(), (row.get("group") or "").strip()
        value = (row.get("population") or "").strip()
        problems = []
        if code not in known:
            problems.append(f"unknown municipality code {code!r}")
        if band not in POPULATION_GROUPS:
            problems.append(f"group {band!r} is not one of {', '.join(POPULATION_GROUPS)}")
        if not value.isdigit():
            problems.append(f"population {value!r} is not a whole number")
        if problems:
            errors[f"line {line}"] = problems
        else:
            rows.append((code, band, int(value)))
    if errors or not rows:
        raise InvalidInput("invalid population rows", fields=errors or {"file": ["no rows"]})
    return rows


def replace_population(
    session: Session, actor: Actor, now: datetime, rows: list[tuple[str, str, int]]
) -> int:
    """Put these figures in place of the stored ones (the rows given replace theirs; others
    stay)."""
    require(actor, "uptake.write")
    for code, band, value in rows:
        found = session.get(Population, (code, band))
        if found is None:
            session.add(
                Population(
                    municipality_code=code,
                    band=band,
                    population=value,
                    updated_at=now,
                    updated_by=actor.label,
                )
            )
        else:
            found.population, found.updated_at, found.updated_by = value, now, actor.label
    session.flush()
    audit(
        session,
        actor,
        now,
        "uptake.population",
        "population",
        "*",
        after={"rows": len(rows), "people": sum(r[2] for r in rows)},
    )
    return len(rows)


def parse_goals(text: str) -> list[Goal]:
    errors: dict[str, list[str]] = {}
    goals = []
    for line, row in _rows(text):
        try:
            goals.append(_goal(row))
        except ValueError as problem:
            errors[f"line {line}"] = [str(problem)]
    if errors:
        raise InvalidInput("invalid goals", fields=errors)
    return goals


def _goal(row: dict) -> Goal:
    groups = tuple(str(row.get("groups") or "").split())
    bands = tuple(str(row.get("population") or "").split())
    target = float(row.get("target") or "nan")
    if not row.get("name") or not groups or not bands:
        raise ValueError("name, groups and population are required")
    unknown = [g for g in groups if g not in TARGET_GROUPS] + [
        b for b in bands if b not in POPULATION_GROUPS
    ]
    if unknown:
        raise ValueError(f"unknown groups {', '.join(unknown)}")
    if not 0 < target <= 1:
        raise ValueError("target is a share between 0 and 1")
    return Goal(str(row["name"]), groups, bands, target)


def goal_from(data: dict) -> Goal:
    """A goal from the API's JSON (lists of groups and bands); raises with field messages."""
    try:
        return _goal(
            {
                "name": data.get("name"),
                "groups": " ".join(data.get("groups") or []),
                "population": " ".join(data.get("population") or []),
                "target": data.get("target"),
            }
        )
    except (TypeError, ValueError) as problem:
        raise InvalidInput(str(problem), fields={"goals": [str(problem)]}) from None


def replace_goals(session: Session, actor: Actor, now: datetime, goals: list[Goal]) -> list[Goal]:
    require(actor, "uptake.write")
    before = [goal_json(g) for g in goals_of(session)]
    session.execute(delete(UptakeGoal))
    for goal in goals:
        session.add(
            UptakeGoal(
                name=goal.name,
                groups=list(goal.groups),
                population=list(goal.population),
                target=goal.target,
                updated_at=now,
                updated_by=actor.label,
            )
        )
    session.flush()
    audit(
        session,
        actor,
        now,
        "uptake.goals",
        "uptake_goals",
        "*",
        before={"goals": before},
        after={"goals": [goal_json(g) for g in goals]},
    )
    return goals


def goals_of(session: Session) -> list[Goal]:
    return [
        Goal(g.name, tuple(g.groups), tuple(g.population), g.target)
        for g in session.scalars(select(UptakeGoal).order_by(UptakeGoal.name))
    ]


def goal_json(goal: Goal) -> dict:
    return {
        "name": goal.name,
        "groups": list(goal.groups),
        "population": list(goal.population),
        "target": goal.target,
    }


def load_seed(session: Session, actor: Actor, now: datetime) -> None:
    """The package's population table and goals, where none are stored yet."""
    data = resources.files("inventory.data")
    if session.scalar(select(func.count()).select_from(Population)) == 0:
        replace_population(
            session, actor, now, parse_population(data.joinpath(POPULATION_FILE).read_text("utf-8"))
        )
    if not goals_of(session):
        replace_goals(
            session, actor, now, parse_goals(data.joinpath(GOALS_FILE).read_text("utf-8"))
        )


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class Counts:
    """Doses given per (area, group) and per (area, week, group), areas being municipality
    codes or region names."""

    by_group: dict[tuple[str, str], int]
    weekly: dict[tuple[str, date, str], int]


def counts(
    session: Session, by: str, *, region: str | None = None, until: date | None = None
) -> Counts:
    area = Administration.region if by == "region" else Administration.municipality_code
    query = select(
        area, Administration.day, Administration.target_group, func.sum(Administration.doses)
    ).group_by(area, Administration.day, Administration.target_group)
    if region:
        query = query.where(Administration.region == region)
    if until:
        query = query.where(Administration.day <= until)
    by_group: dict[tuple[str, str], int] = defaultdict(int)
    weekly: dict[tuple[str, date, str], int] = defaultdict(int)
    for name, day, group, n in session.execute(query):
        key = name or "?"
        by_group[(key, group)] += int(n)
        weekly[(key, week_of(day), group)] += int(n)
    return Counts(dict(by_group), dict(weekly))


def population(session: Session, by: str) -> dict[str, dict[str, int]]:
    """Population per area and band (areas as in ``counts``)."""
    municipalities = geo.municipalities()
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in session.scalars(select(Population)):
        key = row.municipality_code
        if by == "region":
            key = municipalities[row.municipality_code].region
        out[key][row.band] += row.population
    return {k: dict(v) for k, v in out.items()}


def _visible_region(actor: Actor, region: str | None) -> str | None:
    """A coordinator or pharmacist of a region sees that region only."""
    require(actor, "uptake.read")
    if actor.role in ("coordinator", "pharmacist") and actor.region:
        if region and region != actor.region:
            raise InvalidInput(
                "that region is not yours", fields={"region": [f"you see {actor.region} only"]}
            )
        return actor.region
    return region


def report(
    session: Session, actor: Actor, *, by: str = "municipality", region: str | None = None
) -> dict:
    """Uptake per area (municipality or region) and group, weekly, against the goals."""
    if by not in ("municipality", "region"):
        raise InvalidInput("by what?", fields={"by": ["municipality or region"]})
    region = _visible_region(actor, region)
    found = counts(session, by, region=region)
    people = population(session, by)
    goals = goals_of(session)
    municipalities = geo.municipalities()
    areas = sorted(
        {a for a, _ in found.by_group}
        | {
            a
            for a in people
            if region is None
            or (by == "region" and a == region)
            or (by == "municipality" and a in municipalities and municipalities[a].region == region)
        }
    )
    rows = []
    for area in areas:
        per_group = {g: n for (a, g), n in found.by_group.items() if a == area}
        weeks = sorted({w for (a, w, _g) in found.weekly if a == area})
        rows.append(
            {
                "area": area,
                "name": municipalities[area].name if area in municipalities else area,
                "region": municipalities[area].region if area in municipalities else area,
                "by_group": per_group,
                "population": people.get(area, {}),
                "goals": [
                    _standing_json(standing(goal, per_group, people.get(area, {})))
                    for goal in goals
                ],
                "weekly": [
                    {
                        "week": w.isoformat(),
                        "by_group": {
                            g: n for (a, wk, g), n in found.weekly.items() if a == area and wk == w
                        },
                    }
                    for w in weeks
                ],
            }
        )
    return {"by": by, "region": region, "goals": [goal_json(g) for g in goals], "areas": rows}


def _standing_json(s) -> dict:
    return {
        "goal": s.goal.name,
        "target": s.goal.target,
        "vaccinated": s.vaccinated,
        "population": s.population,
        "uptake": round(s.uptake, 4) if s.uptake is not None else None,
        "met": s.met,
        "missing": s.missing,
    }


def report_csv(session: Session, actor: Actor, *, by: str, region: str | None) -> str:
    """The weekly figures as CSV: area, week, group, doses, cumulative doses."""
    data = report(session, actor, by=by, region=region)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area", "name", "region", "week", "group", "doses", "cumulative"])
    for area in data["areas"]:
        running: dict[str, int] = defaultdict(int)
        for week in area["weekly"]:
            for group in TARGET_GROUPS:
                n = week["by_group"].get(group)
                if n is None:
                    continue
                running[group] += n
                writer.writerow(
                    [
                        area["area"],
                        area["name"],
                        area["region"],
                        week["week"],
                        group,
                        n,
                        running[group],
                    ]
                )
    return out.getvalue()


def public_aggregate(session: Session) -> dict:
    """Uptake per region and group for everyone: counts below five are suppressed (null),
    and so is any rate built on one."""
    found = counts(session, "region")
    people = population(session, "region")
    goals = goals_of(session)
    regions = []
    for name in sorted(geo.regions()):
        per_group = {g: n for (a, g), n in found.by_group.items() if a == name}
        shown = {g: suppressed(per_group.get(g, 0)) for g in TARGET_GROUPS}
        standing_rows = []
        for goal in goals:
            s = standing(goal, per_group, people.get(name, {}))
            vaccinated = suppressed(s.vaccinated)
            standing_rows.append(
                {
                    "goal": goal.name,
                    "target": goal.target,
                    "vaccinated": vaccinated,
                    "uptake": round(r, 4)
                    if (r := rate(vaccinated, s.population)) is not None
                    else None,
                }
            )
        regions.append({"region": name, "by_group": shown, "goals": standing_rows})
    return {"suppressed_below": 5, "groups": list(TARGET_GROUPS), "regions": regions}


def municipality_uptake(
    session: Session, actor: Actor, goal_name: str, region: str | None
) -> dict[str, float | None]:
    """Uptake per municipality against one goal (for the choropleth)."""
    data = report(session, actor, by="municipality", region=region)
    out = {}
    for area in data["areas"]:
        for s in area["goals"]:
            if s["goal"] == goal_name:
                out[area["area"]] = s["uptake"]
    return out
