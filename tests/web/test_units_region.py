"""Fridges and the region overview through the staff pages: who sees which units, a unit's
chart data (raw readings or min/max bands, never hiding an excursion), alerts acknowledged
with a comment, a region's figures equal to the services', and a lot's trace."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.models import AuditEntry
from inventory.db.telemetry import Alert
from inventory.services import monitoring
from tests.api.helpers import (
    CENTRE,
    GREY,
    OTHER_CENTRE,
    PHARMACY,
    administer,
    deliver,
    dispatched_shipment,
    hold,
    lot_id,
    ok,
    repacked_cartons,
    thawed_tray,
    waste,
)
from tests.api.test_telemetry_api import HOT_SPELL, register, send
from tests.conftest import T0
from tests.web.conftest import csrf_token, signed_in_client

FRIDGE = f"{CENTRE}-F1"
SPELL_START = T0 - timedelta(hours=3)  # 08:00 to 10:00 Danish time; the clock says 11:00
PERIOD = "from=2026-11-21T07:00&to=2026-11-21T11:00"  # Danish time, as the pages link it


@pytest.fixture
def admin(seeded, token) -> dict:
    return token("admin")


@pytest.fixture
def hot_fridge(client, admin, seeded):
    """The Bella Center's fridge with a logger that saw a hot spell (an excursion, alerts)."""
    register(client, admin)
    send(seeded, HOT_SPELL, start=SPELL_START)
    return FRIDGE


def signed_in(app, person, role, **scope):
    name, _ = person(role, **scope)
    return signed_in_client(app.test_client(), name)


def text(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the units list


def test_a_centre_manager_sees_only_their_sites_units(app, person, hot_fridge):
    browser = signed_in(app, person, "centre_manager", site=CENTRE)
    page = text(browser.get("/units?lang=en"))
    codes = set(re.findall(r'href="/units/([A-Z0-9-]+)"', page))
    assert codes and all(code.startswith(f"{CENTRE}-") for code in codes)
    assert FRIDGE in codes
    # the other site's unit, even by name
    assert browser.get(f"/units/{PHARMACY}-F1").status_code == 404
    assert browser.get(f"/units/{PHARMACY}-F1/chart.json").status_code == 404
    assert browser.get(f"/units?site={PHARMACY}").status_code == 404


def test_the_list_shows_the_newest_reading_its_age_and_open_trouble(app, person, hot_fridge):
    browser = signed_in(app, person, "pharmacist", site=PHARMACY)
    page = text(browser.get(f"/units?site={CENTRE}&lang=en"))
    row = re.search(rf'<tr>\s*<th scope="row"><a href="/units/{FRIDGE}">.*?</tr>', page, re.S)
    assert row, page[:2000]
    cells = row.group(0)
    assert "5.0 °C" in cells  # the last reading of the hot spell
    assert "2.0 … 8.0 °C" in cells  # the allowed range
    assert "stale" in cells and "60 min" in cells  # the logger reports every 10 minutes
    assert 'class="badge bad">' in cells  # alerts still open


def test_a_coordinator_of_another_region_gets_404_on_a_unit(app, person, hot_fridge):
    browser = signed_in(app, person, "coordinator", region="Syddanmark")
    assert browser.get(f"/units/{FRIDGE}").status_code == 404
    assert FRIDGE not in text(browser.get("/units?site=all"))
    own = signed_in(app, person, "coordinator", region="Hovedstaden")
    assert own.get(f"/units/{FRIDGE}?lang=en").status_code == 200


# ---------------------------------------------------------------- the chart


def test_chart_data_is_raw_for_short_ranges_and_bands_for_long_ones(app, person, hot_fridge, db):
    browser = signed_in(app, person, "centre_manager", site=CENTRE)
    raw = browser.get(f"/units/{FRIDGE}/chart.json?{PERIOD}")
    raw = raw.get_json()
    assert raw["resolution"] == "raw" and raw["c"] == HOT_SPELL
    assert raw["allowed"] == [2.0, 8.0] and "low" not in raw
    assert [(e["min_c"], e["max_c"]) for e in raw["excursions"]] == [(9.0, 10.2)]
    with unit_of_work(db) as session:  # the scheduler's hourly roll-ups
        monitoring.roll_up(session, T0 + timedelta(days=2))
    long = browser.get(f"/units/{FRIDGE}/chart.json?days=30&to=2026-11-22T12:00").get_json()
    assert long["resolution"] != "raw" and "c" not in long
    assert max(long["high"]) == 10.2 and min(long["low"]) == 5.0  # the excursion's peak kept
    assert long["excursions"] and long["min_c"] == 5.0 and long["max_c"] == 10.2
    assert len(long["x"]) == len(long["low"]) == len(long["high"])


def test_the_unit_page_has_the_chart_the_summary_and_the_range_in_its_links(
    app, person, hot_fridge
):
    browser = signed_in(app, person, "centre_manager", site=CENTRE)
    response = browser.get(f"/units/{FRIDGE}?{PERIOD}&lang=en")
    page = text(response)
    assert response.status_code == 200
    assert 'data-src="/units/RH-VC-BELLA-F1/chart.json?from=2026-11-21T07:00&amp;to=' in page
    assert "vendor/uPlot.iife.min.js" in page
    summary = page[page.index('id="summary"') : page.index('id="alerts"')]
    assert "5.0 °C" in summary and "10.2 °C" in summary  # lowest and highest
    assert "80 min" in summary  # 8 readings above 8 °C, each standing for 10 minutes
    assert browser.get(f"/units/{FRIDGE}?days=0").status_code == 422
    assert browser.get(f"/units/{FRIDGE}?from=yesterday").status_code == 422


def test_alerts_are_told_in_the_pages_language(app, person, hot_fridge):
    """The stored message is the API's English; the page says it from the alert's details."""
    browser = signed_in(app, person, "centre_manager", site=CENTRE)
    danish = text(browser.get(f"/units/{FRIDGE}?{PERIOD}"))
    assert f"{FRIDGE}: for varm" in danish
    assert f"{FRIDGE}: tilbage i intervallet efter 80 min. uden for" in danish
    assert "enhedens lager er spærret" in danish
    assert "back in range" not in danish and "on hold" not in danish
    english = text(browser.get(f"/units/{FRIDGE}?{PERIOD}&lang=en"))
    assert f"{FRIDGE}: back in range after 80 min out of range" in english


# ---------------------------------------------------------------- alerts


def _alarm_id(db) -> int:
    with db() as session:
        return session.scalar(select(Alert.id).where(Alert.kind == "excursion_alarm"))


def test_an_alert_is_acknowledged_only_with_a_comment(app, person, hot_fridge, db):
    browser = signed_in(app, person, "centre_manager", site=CENTRE)
    alarm = _alarm_id(db)
    page = text(browser.get(f"/units/{FRIDGE}?lang=en"))
    action = f"/units/{FRIDGE}/alerts/{alarm}/ack"
    assert f'action="{action}"' in page
    token = csrf_token(page)
    refused = browser.post(action + "?lang=en", data={"csrf_token": token, "comment": "  "})
    assert refused.status_code == 422
    assert re.search(rf'id="comment-{alarm}-error">Say what was done.</p>', text(refused)), (
        "the refusal is shown beside the comment field"
    )
    with db() as session:
        assert session.get(Alert, alarm).state == "open"
    done = browser.post(action, data={"csrf_token": token, "comment": "door closed"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#alert-{alarm}")
    with db() as session:
        alert = session.get(Alert, alarm)
        assert (alert.state, alert.ack_comment) == ("acknowledged", "door closed")
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "alert.ack"))
    again = browser.post(action + "?lang=en", data={"csrf_token": token, "comment": "again"})
    assert again.status_code == 422 and "acknowledged this alert already" in text(again)


def test_readers_see_alerts_but_cannot_acknowledge(app, person, hot_fridge, db):
    browser = signed_in(app, person, "auditor")
    page = text(browser.get(f"/units/{FRIDGE}?lang=en"))
    assert "Excursion alarm" in page and "/ack" not in page
    alarm = _alarm_id(db)
    refused = browser.post(
        f"/units/{FRIDGE}/alerts/{alarm}/ack",
        data={"csrf_token": csrf_token(page), "comment": "seen"},
    )
    assert refused.status_code == 403


# ---------------------------------------------------------------- the region overview


@pytest.fixture
def region_scenario(client, seeded, token, admin, hot_fridge):
    """Lot GK500: cartons at the pharmacy and the Bella Center (2 given, 1 wasted), one on
    its way to Øksnehallen; one carton held; the Bella Center's fridge had an excursion."""
    staff = token("pharmacist", site=PHARMACY)
    manager = token("centre_manager", site=CENTRE)
    tray = thawed_tray(client, staff, vials=40, lot="GK500")
    at_pharmacy, at_centre, on_road = repacked_cartons(client, staff, tray["id"], [10, 10, 10])
    deliver(client, staff, manager, [at_centre["id"]])
    ok(administer(client, manager, at_centre["id"], 2))
    ok(waste(client, manager, at_centre["id"], 1, "broken"))
    dispatched_shipment(client, staff, [on_road["id"]], to_site=OTHER_CENTRE)
    ok(hold(client, staff, at_pharmacy["id"]))
    return {
        "lot": lot_id(client, staff, GREY, "GK500"),
        "cartons": [tray["id"], at_pharmacy["id"], at_centre["id"], on_road["id"]],
        "shipment_to": OTHER_CENTRE,
    }


def _site_row(page: str, code: str) -> str:
    match = re.search(rf'<tr>\s*<th scope="row"><a href="/stock\?site={code}">.*?</tr>', page, re.S)
    assert match, f"no row for {code}"
    return match.group(0)


def test_region_figures_equal_what_the_api_reports(client, app, person, token, region_scenario):
    api = token("coordinator", region="Hovedstaden")
    answer = client.get("/api/v1/stock?region=Hovedstaden", headers=api).json
    stock = {e["site"]: e for e in answer["sites"]}
    cover = {r["site"]: r for r in client.get("/api/v1/dashboards/cover", headers=api).json["rows"]}
    alerts = client.get(f"/api/v1/alerts?site={CENTRE}&state=open", headers=api).json
    browser = signed_in(app, person, "coordinator", region="Hovedstaden")
    page = text(browser.get("/region?lang=en"))
    assert "Overview · Hovedstaden" in page and "Syddanmark" not in page
    bella = _site_row(page, CENTRE)
    available = sum(line["available"] for line in stock[CENTRE]["lines"])
    assert available == 60 - 3  # 10 vials of 6 doses, 2 given and 1 wasted
    assert f'status=available">{available}</a>' in bella
    assert f">{len(alerts)}</span>" in bella  # open alerts, linking to the units
    assert f'href="/units?site={CENTRE}"' in bella
    # wasted in the last 7 and 28 days, each linking to the ledger events behind it
    assert bella.count("/region/waste/events?by=site&amp;value=RH-VC-BELLA") == 2
    assert ">1</a>" in bella
    pharmacy = _site_row(page, PHARMACY)
    held = sum(line["held"] for line in stock[PHARMACY]["lines"])
    assert held == 60 and f'status=held">{held}</a>' in pharmacy
    assert cover[CENTRE]["days_of_cover"] is None  # nothing booked: no figure
    behind = re.search(r'href="(/region/waste/events[^"]+)"', bella).group(1)
    events = text(browser.get(html.unescape(behind) + "&lang=en"))
    assert "broken" in events


def test_region_overview_is_for_readers_of_region_figures(app, person, seeded):
    manager = signed_in(app, person, "centre_manager", site=CENTRE)
    assert manager.get("/region").status_code == 403
    coordinator = signed_in(app, person, "coordinator", region="Hovedstaden")
    assert coordinator.get("/region?region=Syddanmark").status_code == 422
    auditor = signed_in(app, person, "auditor")
    page = text(auditor.get("/region?region=Syddanmark&lang=en"))
    assert "Overview · Syddanmark" in page and 'id="region"' in page


# ---------------------------------------------------------------- a lot's trace


def test_lot_trace_shows_every_carton_its_doses_and_shipments(app, person, region_scenario):
    browser = signed_in(app, person, "auditor")
    found = browser.get("/lots?q=gk500")
    assert found.status_code == 303
    trace_url = found.headers["Location"]
    assert trace_url.endswith(f"/lots/{region_scenario['lot']}/trace")
    page = text(browser.get(trace_url + "?lang=en"))
    shown = [int(n) for n in re.findall(r'href="/cartons/(\d+)">#', page)]
    assert sorted(shown) == sorted(region_scenario["cartons"])
    assert shown[0] == region_scenario["cartons"][0]  # the tray first, its cartons under it
    assert page.count("↳") == 3
    assert f"→ {OTHER_CENTRE}" in page and f"→ {CENTRE}" in page  # the shipments
    assert "/recall" not in re.sub(r"<header.*?</nav>", "", page, flags=re.S)  # no recall link


def test_the_recall_page_links_to_the_trace(app, person, region_scenario):
    browser = signed_in(app, person, "pharmacist", site=PHARMACY)
    lot = region_scenario["lot"]
    assert f'href="/lots/{lot}/trace"' in text(browser.get(f"/lots/{lot}/recall"))


def test_a_centre_manager_cannot_trace_lots(app, person, region_scenario):
    browser = signed_in(app, person, "centre_manager", site=CENTRE)
    assert browser.get("/lots").status_code == 403
    assert browser.get(f"/lots/{region_scenario['lot']}/trace").status_code == 403
