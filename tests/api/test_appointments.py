"""Appointments from the booking system: batch upsert and cancellation by reference, the CSV
import, and what each site is expected to see (no-shows, walk-ins, delivery days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.db import unit_of_work
from inventory.db.planning import Appointment
from inventory.services import custody
from inventory.services.access import SYSTEM
from tests.api.helpers import CENTRE, FLU, GREY, OTHER_CENTRE, PHARMACY, get, ok
from tests.conftest import T0

TODAY = T0.date()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def row(ref: str, **fields) -> dict:
    return {
        "ref": ref,
        "site": CENTRE,
        "day": day(1),
        "slot": "09:20",
        "product": GREY,
        "status": "booked",
        "group": "65+",
        **fields,
    }


def put(client, headers, rows):
    return client.put("/api/v1/appointments", headers=headers, json=rows)


def stored(db) -> dict[str, tuple]:
    with unit_of_work(db) as session:
        return {
            a.ref: (
                a.site.code,
                a.day.isoformat(),
                a.slot,
                a.product.code,
                a.status,
                a.target_group,
            )
            for a in session.scalars(select(Appointment))
        }


def test_a_batch_creates_then_updates_cancels_and_leaves_alone_by_reference(client, admin, db):
    first = ok(put(client, admin, [row("A1"), row("A2"), row("A3", group=None)]))
    assert first == {"created": 3, "updated": 0, "cancelled": 0, "unchanged": 0, "rows": 3}
    second = ok(
        put(
            client,
            admin,
            [
                row("A1"),
                row("A2", slot="10:40"),
                row("A3", status="cancelled", group=None),
                row("A4", site=OTHER_CENTRE),
            ],
        )
    )
    assert second == {"created": 1, "updated": 1, "cancelled": 1, "unchanged": 1, "rows": 4}
    now = stored(db)
    assert now["A2"][2] == "10:40" and now["A3"][4] == "cancelled" and now["A3"][5] == ""
    assert now["A4"][0] == OTHER_CENTRE


def test_a_bad_row_refuses_the_whole_batch_and_names_row_and_field(client, admin, db):
    response = put(
        client,
        admin,
        [
            row("B1"),
            row("B2", site="NOWHERE"),
            row("B3", product="aspirin"),
            row("B4", slot="25:00"),
            row("B5", day="2026-02-30"),
            row("B6", status="maybe"),
            row("B7", site=PHARMACY),
        ],
    )
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert fields["1.site"] == ["unknown site"]
    assert fields["2.product"] == ["unknown product"]
    assert "3.slot" in fields and "4.day" in fields and "5.status" in fields
    assert fields["6.site"] == ["a hospital_pharmacy does not take appointments"]
    assert stored(db) == {}


def test_a_reference_twice_in_one_batch_is_refused(client, admin):
    response = put(client, admin, [row("C1"), row("C1", slot="11:00")])
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "1.ref": ["listed twice in the batch (first at row 0)"]
    }


def test_personal_data_has_no_field_to_go_in(client, admin, db):
    response = put(client, admin, [row("D1", name="Jens Hansen", cpr="010150-1234")])
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"0.name", "0.cpr"}
    assert stored(db) == {}


@pytest.mark.parametrize("body", [{"ref": "X"}, "text", None])
def test_the_body_must_be_a_list(client, admin, body):
    response = client.put("/api/v1/appointments", headers=admin, json=body)
    assert response.status_code == 422


def test_only_the_booking_side_and_pharmacists_send_appointments(client, manager, auditor, token):
    assert put(client, manager, [row("E1")]).status_code == 403
    assert put(client, auditor, [row("E1")]).status_code == 403
    assert put(client, token("coordinator", region="Hovedstaden"), [row("E1")]).status_code == 200
    other = put(client, token("coordinator", region="Sjaelland"), [row("E2")])
    assert other.status_code == 422 and other.json["error"]["fields"] == {
        "0.site": ["not a site this token may book for"]
    }


def test_appointment_counts_carry_no_references(client, admin):
    ok(put(client, admin, [row("F1"), row("F2"), row("F3", status="cancelled")]))
    listed = ok(get(client, f"/appointments?site={CENTRE}&from={day(0)}&to={day(3)}", admin))
    assert listed["lines"] == [
        {"site": CENTRE, "day": day(1), "product": GREY, "group": "65+", "booked": 2}
    ]
    assert "F1" not in str(listed)


# ------------------------------------------------------------------ CSV import


def run_import(app, tmp_path, text: str | bytes):
    path = tmp_path / "bookings.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return app.test_cli_runner().invoke(args=["import-appointments", str(path)])


def test_a_malformed_csv_row_is_reported_by_line_and_the_good_rows_go_in(app, seeded, db, tmp_path):
    result = run_import(
        app,
        tmp_path,
        "\n".join(
            [
                "ref,site,day,slot,product,status,group",
                f"G1,{CENTRE},{day(1)},09:00,{GREY},booked,65+",
                f"G2,NOWHERE,{day(1)},09:10,{GREY},booked,65+",
                f"G3,{CENTRE},{day(1)},9 o'clock,{GREY},booked,",
                f"G4,{OTHER_CENTRE},{day(2)},09:20,{FLU},,85+",
                f"G5,{CENTRE},{day(2)},09:30,{GREY},booked,65+,surplus",
                "",
            ]
        ),
    )
    assert result.exit_code == 1
    assert "line 3: site: unknown site" in result.output
    assert "line 4: slot:" in result.output
    assert "line 6: _row: more fields than the header names" in result.output
    assert "created 2, updated 0, cancelled 0, unchanged 0, rejected 3" in result.output
    assert set(stored(db)) == {"G1", "G4"}
    assert stored(db)["G4"][4] == "booked"


def test_a_clean_csv_imports_and_exits_zero_and_a_second_run_changes_nothing(
    app, seeded, db, tmp_path
):
    text = (
        "ref,site,day,slot,product,status,group\n"
        + "\n".join(f"H{i},{CENTRE},{day(1)},10:{i:02d},{GREY},booked,staff" for i in range(5))
        + "\n"
    )
    first = run_import(app, tmp_path, text)
    assert first.exit_code == 0, first.output
    assert "created 5" in first.output
    again = run_import(
        app,
        tmp_path,
        text.replace("H4,", "H4,").replace(f"10:04,{GREY},booked", f"10:04,{GREY},cancelled"),
    )
    assert again.exit_code == 0 and "cancelled 1, unchanged 4" in again.output


def test_a_spreadsheet_export_with_semicolons_and_its_own_header_case_imports(
    app, seeded, db, tmp_path
):
    text = (
        "Ref; Site;Day;Slot;Product;Status;Group\n"
        + "\n".join(f"S{i};{CENTRE};{day(1)};11:{i:02d};{GREY};booked;65+" for i in range(3))
        + "\n"
    )
    result = run_import(app, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "created 3" in result.output
    assert stored(db)["S2"] == (CENTRE, day(1), "11:02", GREY, "booked", "65+")


def test_a_row_that_is_not_utf8_is_reported_and_the_others_go_in(app, seeded, db, tmp_path):
    result = run_import(
        app,
        tmp_path,
        "\n".join(
            [
                "ref,site,day,slot,product,status,group",
                f"U1,{CENTRE},{day(1)},12:00,{GREY},booked,65+",
                f"U2\xf8,{CENTRE},{day(1)},12:10,{GREY},booked,65+",  # cp1252 from a spreadsheet
                f"U3,{CENTRE},{day(1)},12:20,{GREY},booked,65+",
                "",
            ]
        ).encode("latin-1"),
    )
    assert result.exit_code == 1
    assert "line 3: ref: not UTF-8 text" in result.output
    assert "created 2" in result.output and "rejected 1" in result.output
    assert set(stored(db)) == {"U1", "U3"}


def test_a_csv_without_the_needed_columns_is_refused(app, seeded, tmp_path):
    result = run_import(app, tmp_path, "ref,site\nX,Y\n")
    assert result.exit_code != 0 and "lacks the columns" in result.output


# ------------------------------------------------------------------ planning settings and priority


def test_site_planning_settings_default_and_can_be_set_by_its_pharmacist(
    client, admin, staff, manager
):
    settings = ok(get(client, f"/sites/{CENTRE}/planning", manager))
    assert (
        settings["no_show_rate"] == 0.07
        and settings["walk_ins"] == {}
        and settings["delivery_days"] is None
    )
    assert settings["effective"]["source"] == "configured"
    body = {"no_show_rate": 0.1, "walk_ins": {"mon": {GREY: 4}}, "delivery_days": [0, 2, 4]}
    assert (
        client.put(f"/api/v1/sites/{CENTRE}/planning", headers=manager, json=body).status_code
        == 403
    )
    changed = ok(client.put(f"/api/v1/sites/{CENTRE}/planning", headers=staff, json=body))
    assert changed["no_show_rate"] == 0.1 and changed["walk_ins"] == {"mon": {GREY: 4}}
    assert changed["delivery_days"] == [0, 2, 4] and changed["effective"]["no_show_rate"] == 0.1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"no_show_rate": -0.1}, "no_show_rate"),
        ({"no_show_rate": 1.5}, "no_show_rate"),
        ({"walk_ins": {"mon": {GREY: -2}}}, "walk_ins.mon.value"),
        ({"walk_ins": {"someday": {GREY: 2}}}, "walk_ins.someday.key"),
        ({"walk_ins": {"mon": {"aspirin": 2}}}, "walk_ins.mon.aspirin"),
        ({"delivery_days": [7]}, "delivery_days.0"),
    ],
)
def test_bad_planning_settings_name_the_field(client, staff, body, field):
    response = client.put(f"/api/v1/sites/{CENTRE}/planning", headers=staff, json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"], response.json


def test_no_shows_and_walk_ins_are_learned_from_history(client, admin, db, clock):
    """Six past Saturdays with 10 booked and 9 given: a 10 % no-show rate."""
    with unit_of_work(db) as session:
        carton = custody.receive(
            session,
            SYSTEM,
            T0 - timedelta(days=60),
            custody.ReceiptInput(
                storage_unit=f"{CENTRE}-F1",
                vials=100,
                state="thawed",
                product=FLU,
                lot="VT9",
                expiry=TODAY + timedelta(days=200),
            ),
        )
        carton_id = carton.id
    saturdays = [TODAY - timedelta(days=7 * w) for w in range(1, 7)]
    rows = [
        row(f"S{w}-{i}", day=d.isoformat(), product=FLU)
        for w, d in enumerate(saturdays)
        for i in range(10)
    ]
    ok(put(client, admin, rows))
    for d in saturdays:
        with unit_of_work(db) as session:
            custody.administer(
                session, SYSTEM, T0.replace(year=d.year, month=d.month, day=d.day), carton_id, 9
            )
    learned = ok(get(client, f"/sites/{CENTRE}/planning", admin))["effective"]
    assert learned["source"] == "history" and learned["history_days"] == 6
    assert learned["no_show_rate"] == pytest.approx(0.1)
    assert learned["walk_ins"] == {}


def test_the_priority_order_has_a_default_and_only_an_admin_changes_it(client, admin, staff):
    assert ok(get(client, "/planning/priority", staff))["priority"][:3] == [
        "nursing_home",
        "85+",
        "65+",
    ]
    order = {"priority": ["85+", "nursing_home", "risk", ""]}
    assert client.put("/api/v1/planning/priority", headers=staff, json=order).status_code == 403
    assert ok(client.put("/api/v1/planning/priority", headers=admin, json=order)) == order
    assert ok(get(client, "/planning/priority", staff)) == order
    twice = client.put(
        "/api/v1/planning/priority", headers=admin, json={"priority": ["85+", "85+"]}
    )
    assert twice.status_code == 422 and "priority" in twice.json["error"]["fields"]
