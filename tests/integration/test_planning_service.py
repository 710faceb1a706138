"""The planning services against the database: what goes into the planner's request, what
approval and re-planning do to shipments, region plans made and approved as a whole, and what
the history teaches about a site."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.models import Shipment
from inventory.domain.errors import Conflict, Forbidden, InvalidInput
from inventory.services import appointments, custody, planning, shipments
from inventory.services.access import SYSTEM, Actor
from inventory.services.common import site_by_code
from tests.conftest import T0

TODAY = T0.date()
PHARMACY, BELLA, OKSNE = "RH-APO", "RH-VC-BELLA", "RH-VC-OKSNE"
GREY, FLU = "comirnaty-grey-bivalent", "vaxigriptetra"


def receive(
    session,
    unit: str,
    vials: int,
    *,
    product: str = GREY,
    state: str = "ultra_frozen",
    lot: str = "GK1",
    at=T0,
):
    return custody.receive(
        session,
        SYSTEM,
        at,
        custody.ReceiptInput(
            storage_unit=unit,
            vials=vials,
            state=state,
            product=product,
            lot=lot,
            expiry=TODAY + timedelta(days=300),
        ),
    )


def book(
    session,
    site: str,
    on,
    count: int,
    *,
    product: str = GREY,
    group: str = "65+",
    prefix: str = "B",
):
    rows = [
        appointments.AppointmentInput(
            f"{prefix}{site}{on}-{i}", site, on, "10:00", product, "booked", group
        )
        for i in range(count)
    ]
    appointments.upsert(session, SYSTEM, T0, rows)


@pytest.fixture
def session(seeded):
    with unit_of_work(seeded) as session:
        yield session


def test_the_request_holds_only_stock_the_pharmacy_can_send(session):
    free = receive(session, f"{PHARMACY}-ULT1", 10)
    held = receive(session, f"{PHARMACY}-ULT1", 10, lot="GK2")
    custody.hold(session, SYSTEM, T0, held.id, "freezer alarm")
    picked = receive(session, f"{PHARMACY}-F1", 5, product=FLU, state="thawed", lot="VT1")
    shipments.create_shipment(
        session, SYSTEM, T0, from_site=PHARMACY, to_site=BELLA, cartons=[picked.id]
    )
    going = receive(session, f"{PHARMACY}-F1", 8, product=FLU, state="thawed", lot="VT2")
    sent = shipments.create_shipment(
        session, SYSTEM, T0, from_site=PHARMACY, to_site=OKSNE, cartons=[going.id]
    )
    shipments.dispatch(session, SYSTEM, T0, sent.id)
    pharmacy = site_by_code(session, PHARMACY)
    built = planning.build_request(session, T0, pharmacy, TODAY, 7)
    request = built.request
    assert [u.id for u in request.pharmacy_stock] == [f"c{free.id}"]
    unit = request.pharmacy_stock[0]
    assert (
        unit.state == "ultra_frozen" and unit.thawed_window_days == 70 and unit.thaw_lead_days == 1
    )
    sites = {s.code: s for s in request.sites}
    assert (
        BELLA in sites and OKSNE in sites and "RH-VC-HILL" not in sites
    )  # Hillerød has its own pharmacy
    assert [u.id for u in sites[OKSNE].stock] == [f"c{going.id}"]  # in transit to it
    assert [u.id for u in sites[BELLA].stock] == [f"c{picked.id}"]  # on its way in a draft
    assert sites[BELLA].capacity_vials == 5000  # two fridges of 2,500 vials
    assert sites[BELLA].no_show_rate == pytest.approx(0.07)


def test_bookings_settings_and_priority_reach_the_planner(session):
    book(session, BELLA, TODAY + timedelta(days=1), 3, group="85+")
    book(session, BELLA, TODAY + timedelta(days=1), 2, group="", prefix="unknown")
    book(session, BELLA, TODAY + timedelta(days=9), 4, prefix="late")
    appointments.update_site_settings(
        session,
        SYSTEM,
        T0,
        BELLA,
        no_show_rate=0.2,
        delivery_days=[1, 3],
        walk_ins={appointments.WEEKDAYS[(TODAY + timedelta(days=1)).weekday()]: {GREY: 3}},
    )
    request = planning.build_request(session, T0, site_by_code(session, PHARMACY), TODAY, 7).request
    assert sorted((d.site, d.group, d.booked) for d in request.demand) == [
        (BELLA, "", 2),
        (BELLA, "85+", 3),
    ]
    bella = next(s for s in request.sites if s.code == BELLA)
    assert bella.no_show_rate == 0.2 and bella.delivery_days == frozenset({1, 3})
    assert bella.walk_ins_per_day == {GREY: 3}
    assert request.priority[:2] == ("nursing_home", "85+")


def test_withdrawing_a_draft_frees_its_cartons_but_a_dispatched_one_stays(session):
    one = receive(session, f"{PHARMACY}-F1", 5, product=FLU, state="thawed", lot="VT1")
    two = receive(session, f"{PHARMACY}-F1", 5, product=FLU, state="thawed", lot="VT2")
    draft = shipments.create_shipment(
        session, SYSTEM, T0, from_site=PHARMACY, to_site=BELLA, cartons=[one.id]
    )
    gone = shipments.create_shipment(
        session, SYSTEM, T0, from_site=PHARMACY, to_site=BELLA, cartons=[two.id]
    )
    shipments.dispatch(session, SYSTEM, T0, gone.id)
    draft_id = draft.id
    assert planning.withdraw_draft_shipment(session, SYSTEM, T0, draft) == [one.id]
    assert (
        session.get(Shipment, draft_id) is None
        and one.shipment_id is None
        and one.status == "available"
    )
    with pytest.raises(Conflict):
        planning.withdraw_draft_shipment(session, SYSTEM, T0, gone)
    assert two.in_transit


def test_approval_repacks_the_vials_a_delivery_needs_and_replanning_reuses_them(session):
    tray = receive(session, f"{PHARMACY}-ULT1", 20)
    custody.thaw(session, SYSTEM, T0, tray.id, storage_unit=f"{PHARMACY}-F1")
    book(session, BELLA, TODAY + timedelta(days=1), 11)
    first = planning.create_plan(
        session, SYSTEM, T0, pharmacy=PHARMACY, start=TODAY, days=5, method="fefo"
    )
    planning.approve_plan(session, SYSTEM, T0, first.id)
    [link] = first.shipment_links
    [piece_id] = [i.carton_id for i in link.shipment.items]
    piece = session.get(type(tray), piece_id)
    assert piece.parent_id == tray.id and piece.vials == 2 and tray.vials == 18
    assert first.thaw_tasks == []  # thawed already
    book(session, BELLA, TODAY + timedelta(days=1), 6, prefix="more")
    second = planning.create_plan(
        session, SYSTEM, T0, pharmacy=PHARMACY, start=TODAY, days=5, method="optimal"
    )
    assert second.result["inputs"]["replanned_draft_shipments"] == [link.shipment_id]
    planning.approve_plan(session, SYSTEM, T0, second.id)
    assert first.status == "superseded" and link.shipment_id is None and link.withdrawn_at == T0
    drafts = session.scalars(select(Shipment).where(Shipment.status == "draft")).all()
    assert (
        len(drafts) == 1 and sum(i.carton.vials for i in drafts[0].items) == 3
    )  # 17 people, 6-dose vials


def test_history_teaches_the_no_show_rate_and_the_walk_ins(session):
    carton = receive(
        session,
        f"{BELLA}-F1",
        300,
        product=FLU,
        state="thawed",
        lot="VT1",
        at=T0 - timedelta(days=60),
    )
    weeks = [TODAY - timedelta(days=7 * w) for w in range(1, 6)]
    for d in weeks:
        book(session, BELLA, d, 20, product=FLU, prefix=f"h{d}")
    for d in weeks:  # 16 of the 20 booked came
        custody.administer(session, SYSTEM, T0.replace(month=d.month, day=d.day), carton.id, 16)
    bella = site_by_code(session, BELLA)
    learned = appointments.expectations(session, [bella], TODAY)[bella.id]
    assert learned.source == "history" and learned.no_show_rate == pytest.approx(0.2)
    assert learned.walk_ins == {}
    extra = weeks[0]
    custody.administer(
        session, SYSTEM, T0.replace(month=extra.month, day=extra.day, hour=15), carton.id, 5
    )
    learned = appointments.expectations(session, [bella], TODAY)[bella.id]
    # that day 21 were given for 20 booked: no no-show that day, 5 walk-ins over one such
    # weekday of five
    assert learned.no_show_rate == pytest.approx(0.16)
    weekday = appointments.WEEKDAYS[TODAY.weekday()]
    assert learned.walk_ins[weekday][FLU] == pytest.approx(round((21 - 20 * 0.84) / 5, 2))


def test_too_little_history_keeps_the_configured_figures(session):
    book(session, BELLA, TODAY - timedelta(days=7), 20, product=FLU)
    appointments.update_site_settings(session, SYSTEM, T0, BELLA, no_show_rate=0.12)
    bella = site_by_code(session, BELLA)
    learned = appointments.expectations(session, [bella], TODAY)[bella.id]
    assert learned.source == "configured" and learned.no_show_rate == 0.12


NORTH, HILL = "RH-APO-HIL", "RH-VC-HILL"


def test_a_region_plan_is_one_plan_per_pharmacy_and_is_approved_as_a_whole(session):
    receive(session, f"{PHARMACY}-F1", 10, product=FLU, state="thawed", lot="VT1")
    frozen = receive(session, f"{NORTH}-ULT1", 4, lot="GK9")
    book(session, BELLA, TODAY + timedelta(days=2), 8, product=FLU)
    book(session, HILL, TODAY + timedelta(days=2), 10)
    region = planning.create_region_plan(
        session, SYSTEM, T0, region="Hovedstaden", start=TODAY, days=5, method="fefo"
    )
    south, north = region.plans
    assert (south.pharmacy.code, north.pharmacy.code) == (PHARMACY, NORTH)
    assert south.region_plan is region and region.status == "proposed"
    # each pharmacy is planned with the sites it supplies, and only those
    assert BELLA in south.result["inputs"]["sites"] and HILL not in south.result["inputs"]["sites"]
    assert HILL in north.result["inputs"]["sites"] and BELLA not in north.result["inputs"]["sites"]
    totals = planning.region_totals(region)
    assert totals["projected_waste"]["total"] == pytest.approx(
        south.result["waste"]["total"] + north.result["waste"]["total"]
    )
    assert (
        totals["shipments"] == len(south.result["shipments"]) + len(north.result["shipments"]) >= 2
    )

    scoped = Actor(
        name="herlev",
        role="pharmacist",
        site_id=south.pharmacy_id,
        site_code=PHARMACY,
        region="Hovedstaden",
    )
    with pytest.raises(Forbidden):
        planning.approve_region_plan(session, scoped, T0, region.id)
    assert region.status == "proposed" and south.status == north.status == "proposed"

    planning.approve_region_plan(session, SYSTEM, T0, region.id)
    assert region.status == "approved" and south.status == north.status == "approved"
    drafts = session.scalars(select(Shipment).where(Shipment.status == "draft")).all()
    assert sorted((s.from_site.code, s.to_site.code) for s in drafts) == [
        (PHARMACY, BELLA),
        (NORTH, HILL),
    ]
    assert north.thaw_tasks and {t.carton.parent_id or t.carton_id for t in north.thaw_tasks} == {
        frozen.id
    }
    assert south.thaw_tasks == []  # its syringes need no thawing


def test_a_region_plan_with_a_superseded_pharmacy_plan_is_not_approved(session):
    receive(session, f"{NORTH}-F1", 10, product=FLU, state="thawed", lot="VT1")
    book(session, HILL, TODAY + timedelta(days=1), 4, product=FLU)
    region = planning.create_region_plan(
        session, SYSTEM, T0, region="Hovedstaden", start=TODAY, days=3
    )
    north = region.plans[1]
    planning.approve_plan(session, SYSTEM, T0, north.id)
    newer = planning.create_plan(session, SYSTEM, T0, pharmacy=NORTH, start=TODAY, days=3)
    planning.approve_plan(session, SYSTEM, T0, newer.id)
    with pytest.raises(Conflict) as refused:
        planning.approve_region_plan(session, SYSTEM, T0, region.id)
    assert refused.value.code == "plan_superseded" and NORTH in refused.value.message


def test_a_pharmacy_plan_approved_over_part_of_an_approved_region_plan_supersedes_the_region_plan(
    session,
):
    receive(session, f"{NORTH}-F1", 10, product=FLU, state="thawed", lot="VT1")
    book(session, HILL, TODAY + timedelta(days=1), 4, product=FLU)
    region = planning.create_region_plan(
        session, SYSTEM, T0, region="Hovedstaden", start=TODAY, days=3
    )
    planning.approve_region_plan(session, SYSTEM, T0, region.id)
    south, north = region.plans
    newer = planning.create_plan(session, SYSTEM, T0, pharmacy=NORTH, start=TODAY, days=3)
    planning.approve_plan(session, SYSTEM, T0, newer.id)
    assert north.status == "superseded" and north.superseded_by_id == newer.id
    assert south.status == "approved"  # its part still holds
    assert region.status == "superseded" and region.superseded_by_id is None
    assert region not in planning.list_region_plans(
        session, SYSTEM, region="Hovedstaden", status="approved"
    )


def test_a_region_without_a_hospital_pharmacy_cannot_be_planned(session):
    with pytest.raises(InvalidInput) as unknown:
        planning.create_region_plan(session, SYSTEM, T0, region="Atlantis", start=TODAY, days=3)
    assert unknown.value.fields == {"region": ["unknown region"]}
    elsewhere = Actor(
        name="roskilde",
        role="pharmacist",
        site_id=site_by_code(session, "RS-APO").id,
        site_code="RS-APO",
        region="Sjaelland",
    )
    with pytest.raises(InvalidInput):
        planning.create_region_plan(
            session, elsewhere, T0, region="Hovedstaden", start=TODAY, days=3
        )
