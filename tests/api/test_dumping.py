"""The compiled dumper answers what marshmallow's own dump answers, whatever it is given."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest

from inventory.api import responses
from inventory.api.dumping import dumper
from inventory.db.base import JSONText


def carton(**changes) -> dict:
    values = {
        "id": 1,
        "product": "comirnaty-grey-bivalent",
        "product_name": "Comirnaty",
        "lot": "GK001",
        "lot_id": 3,
        "expiry": "2027-06-30",
        "state": "thawed",
        "status": "held",
        "vials": 10,
        "doses": 60,
        "doses_per_vial": 6,
        "site": "RH-APO",
        "storage_unit": None,
        "in_transit": False,
        "shipment": None,
        "thawed_at": "2026-11-21T10:00:00Z",
        "bud": "2027-01-30T10:00:00Z",
        "days_left": 12.3,
        "open_vial": {"doses": 4, "opened_at": "2026-11-21T11:00:00Z", "bud": None},
        "room_temp_hours": 0.5,
        "exposure": {"out_of_range_s": 0.0, "min_c": None, "max_c": 9.5},
        "hold": None,
        "holds": [],
        "parent": None,
        "children": [4, 5],
        "serial": None,
        "undeclared": "never on the wire",
    }
    return values | changes


HOLD = {
    "id": 7,
    "kind": "manual",
    "reason": "alarm",
    "excursion": None,
    "placed_at": "2026-11-21T10:00:00Z",
    "placed_by": "x",
    "decision": None,
    "decision_reason": None,
    "decided_at": None,
    "decided_by": None,
}


def dumps_alike(schema, value) -> None:
    expected = schema().dump(value)
    got = dumper(schema)(value)
    assert got == expected
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize(
    "value",
    [
        carton(),
        carton(hold=HOLD, holds=[HOLD, None]),
        carton(days_left=12, room_temp_hours=1, doses=True),  # numbers of another type
        carton(children=(4, 5)),  # a tuple is made a list
        carton(children=[4, "5"]),
        carton(open_vial=None, exposure={"out_of_range_s": 3, "min_c": 1, "max_c": None}),
        OrderedDict(carton()),  # a dict of another class
        {k: v for k, v in carton().items() if k != "serial"},  # a declared key left out
    ],
)
def test_a_carton_is_dumped_as_marshmallow_dumps_it(value):
    dumps_alike(responses.Carton, value)


def test_a_lineage_that_nests_itself_is_dumped_as_marshmallow_dumps_it():
    leaf = {"id": 3, "site": "RH-APO", "vials": 2, "doses": 12, "status": "available"}
    lineage = {
        "ancestors": [{"id": 1, "site": "RH-APO", "vials": 5, "status": "available"}],
        "descendants": [
            {**leaf, "id": 2, "children": [{**leaf, "children": []}]},
            {**leaf, "id": 4, "children": []},
        ],
    }

    dumps_alike(responses.Lineage, lineage)


def test_an_event_details_dict_and_json_text_are_passed_on():
    event = {
        "id": 1,
        "at": "2026-11-21T10:00:00Z",
        "actor": "x",
        "kind": "receive",
        "carton": 1,
        "doses": 6,
        "change": 6,
        "bucket": None,
        "from_site": None,
        "to_site": "RH-APO",
        "from_storage_unit": None,
        "to_storage_unit": "RH-APO-F1",
        "reason": None,
        "details": {"scan": "010", "nested": {"a": [1, 2.5]}},
    }
    dumps_alike(responses.CustodyEvent, event)
    dumps_alike(responses.CustodyEvent, event | {"details": None})

    readings = JSONText('[{"c":5.0,"ts":"2026-11-21T10:00:00Z"}]')
    answer = {"storage_unit": "F1", "from": "a", "to": "b", "resolution": "raw"}
    answer |= {"min_c": 2.0, "max_c": 8.0, "readings": readings}
    assert dumper(responses.Readings)(answer)["readings"] is readings
