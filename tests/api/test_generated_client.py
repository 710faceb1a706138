"""An integrator's path: generate a Python client from /api/v1/openapi.json with
openapi-python-client and walk the README's custody chain with it against a live server."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.api.helpers import API, CENTRE, PHARMACY

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
SCAN = "]d201020991200020161727123110GK2026A"  # the README's tray: GTIN, expiry, lot


@pytest.fixture
def live(app):
    """The app on a free port of this machine, for as long as the test runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def generated(client, tmp_path, monkeypatch):
    """A client package generated from the served description: `inventory_client`."""
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: the dev extra installs openapi-python-client")
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(client.get(f"{API}/openapi.json").get_json()))
    config = tmp_path / "config.yaml"
    config.write_text("package_name_override: inventory_client\npost_hooks: []\n")
    out = tmp_path / "inventory_client"
    import subprocess

    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(spec), "--output-path", str(out)]
        + ["--meta", "none", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("inventory_client")
    for name in [m for m in sys.modules if m.split(".")[0] == "inventory_client"]:
        del sys.modules[name]
    shutil.rmtree(out, ignore_errors=True)


def test_a_generated_client_walks_the_custody_chain(generated, live, seeded, token):
    from inventory_client import AuthenticatedClient
    from inventory_client.api.cartons import administer, repack, thaw, waste
    from inventory_client.api.receipts import receive
    from inventory_client.api.shipments import create_shipment, dispatch, receive_shipment
    from inventory_client.models import (
        AdministerInput,
        Carton,
        DeliveryItemInput,
        ReceiptInput,
        ReceiptInputState,
        Repacked,
        RepackInput,
        RepackPartInput,
        Shipment,
        ShipmentInput,
        ShipmentReceiveInput,
        ThawInput,
        WasteInput,
        WasteInputReason,
    )

    def as_(headers):
        raw = headers["Authorization"].split(" ", 1)[1]
        return AuthenticatedClient(base_url=live, token=raw, raise_on_unexpected_status=True)

    pharmacist = as_(token("pharmacist", site=PHARMACY))
    manager = as_(token("centre_manager", site=CENTRE))

    tray = receive.sync(
        client=pharmacist,
        idempotency_key="tray-GK2026A",
        body=ReceiptInput(
            storage_unit=f"{PHARMACY}-ULT1",
            vials=195,
            state=ReceiptInputState.ULTRA_FROZEN,
            scan=SCAN,
        ),
    )
    assert isinstance(tray, Carton) and tray.lot == "GK2026A" and tray.doses == 195 * 6
    thawed = thaw.sync(tray.id, client=pharmacist, body=ThawInput(storage_unit=f"{PHARMACY}-F1"))
    assert isinstance(thawed, Carton) and thawed.state.value == "thawed" and thawed.bud
    packed = repack.sync(
        tray.id,
        client=pharmacist,
        body=RepackInput(cartons=[RepackPartInput(vials=10, storage_unit=f"{PHARMACY}-F1")]),
    )
    assert isinstance(packed, Repacked) and packed.parent.vials == 185
    (small,) = packed.cartons
    shipment = create_shipment.sync(
        client=pharmacist,
        body=ShipmentInput(from_site=PHARMACY, to_site=CENTRE, cartons=[small.id]),
    )
    assert isinstance(shipment, Shipment) and shipment.status.value == "draft"
    sent = dispatch.sync(shipment.id, client=pharmacist)
    assert isinstance(sent, Shipment) and sent.status.value == "dispatched"
    arrived = receive_shipment.sync(
        shipment.id,
        client=manager,
        body=ShipmentReceiveInput(
            storage_unit=f"{CENTRE}-F1", items=[DeliveryItemInput(carton=small.id, accepted=True)]
        ),
    )
    assert isinstance(arrived, Shipment) and arrived.proof_of_delivery.items[0].accepted
    given = administer.sync(small.id, client=manager, body=AdministerInput(doses=5))
    assert isinstance(given, Carton) and given.doses == 55 and given.open_vial.doses == 1
    wasted = waste.sync(
        small.id, client=manager, body=WasteInput(doses=1, reason=WasteInputReason.OPEN_VIAL)
    )
    assert isinstance(wasted, Carton) and wasted.doses == 54
