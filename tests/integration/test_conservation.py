"""Conservation: for every lot, doses received = on hand + in transit + administered
+ wasted + discarded, whatever happens, and each carton's doses equal its ledger."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from inventory.clock import FixedClock
from inventory.db import unit_of_work
from inventory.db.models import Carton, CustodyEvent, Lot
from inventory.domain.errors import DomainError
from inventory.services import custody, lots, shipments
from inventory.services.access import Actor
from tests.conftest import T0
from tests.support.database import Snapshot, empty_all_tables

PHARMACIST = Actor(name="pharmacist", role="pharmacist")


def check_conservation(session) -> None:
    for lot in session.scalars(select(Lot)):
        received = session.scalar(
            select(func.coalesce(func.sum(CustodyEvent.doses), 0)).where(
                CustodyEvent.lot_id == lot.id, CustodyEvent.kind == "receive"
            )
        )
        gone = dict(
            session.execute(
                select(CustodyEvent.bucket, func.sum(CustodyEvent.doses))
                .where(CustodyEvent.lot_id == lot.id, CustodyEvent.bucket.is_not(None))
                .group_by(CustodyEvent.bucket)
            ).all()
        )
        cartons = session.scalars(select(Carton).where(Carton.lot_id == lot.id)).all()
        on_hand = sum(c.doses for c in cartons if not c.in_transit)
        in_transit = sum(c.doses for c in cartons if c.in_transit)
        assert received == on_hand + in_transit + sum(gone.values()), (
            lot.number,
            received,
            on_hand,
            in_transit,
            gone,
        )
        for carton in cartons:
            ledger = session.scalar(
                select(func.sum(CustodyEvent.change)).where(CustodyEvent.carton_id == carton.id)
            )
            assert carton.doses == ledger >= 0
            assert carton.vials >= 0
            assert carton.doses <= carton.vials * carton.product.doses_per_vial


class CustodyMachine(RuleBasedStateMachine):
    """Random sequences of receipts, thaws, repacks, shipments, use, waste, holds and
    recalls; some of them are refused, and a refusal must change nothing."""

    factory = None  # set by the test
    network: Snapshot | None = None  # the catalogue and network, as the seed made them first

    @initialize()
    def start(self):
        from inventory.services import seed

        engine = self.factory.kw["bind"]
        empty_all_tables(engine)
        if CustodyMachine.network is None:
            with unit_of_work(self.factory) as session:
                seed.load_catalogue(session)
                seed.load_network(session)
            CustodyMachine.network = Snapshot(engine)
        else:  # the same rows, copied back: far faster than the seed again for each example
            CustodyMachine.network.restore(engine)
        self.clock = FixedClock(T0)
        self.cartons: list[int] = []
        self.shipments: list[int] = []
        self.lot_ids: list[int] = []

    def attempt(self, action):
        try:
            with unit_of_work(self.factory) as session:
                return action(session)
        except DomainError:
            return None

    @rule(vials=st.integers(1, 30), frozen=st.booleans(), lot=st.sampled_from(["A1", "B2"]))
    def receive(self, vials, frozen, lot):
        def act(session):
            carton = custody.receive(
                session,
                PHARMACIST,
                self.clock.now(),
                custody.ReceiptInput(
                    storage_unit="RH-APO-ULT1" if frozen else "RH-APO-F1",
                    vials=vials,
                    state="ultra_frozen" if frozen else "thawed",
                    product="comirnaty-grey-bivalent",
                    lot=lot,
                    expiry=date(2027, 6, 30),
                ),
            )
            return carton.id, carton.lot_id

        result = self.attempt(act)
        if result:
            self.cartons.append(result[0])
            self.lot_ids.append(result[1])

    @precondition(lambda self: self.cartons)
    @rule(data=st.data())
    def thaw(self, data):
        carton_id = data.draw(st.sampled_from(self.cartons))
        self.attempt(
            lambda s: custody.thaw(
                s, PHARMACIST, self.clock.now(), carton_id, storage_unit="RH-APO-F2"
            )
        )

    @precondition(lambda self: self.cartons)
    @rule(data=st.data(), sizes=st.lists(st.integers(1, 8), min_size=1, max_size=3))
    def repack(self, data, sizes):
        carton_id = data.draw(st.sampled_from(self.cartons))
        children = self.attempt(
            lambda s: [
                c.id
                for c in custody.repack(
                    s, PHARMACIST, self.clock.now(), carton_id, [(n, "RH-APO-F3") for n in sizes]
                )
            ]
        )
        self.cartons.extend(children or [])

    @precondition(lambda self: self.cartons)
    @rule(data=st.data(), doses=st.integers(1, 20))
    def administer(self, data, doses):
        carton_id = data.draw(st.sampled_from(self.cartons))
        self.attempt(
            lambda s: custody.administer(s, PHARMACIST, self.clock.now(), carton_id, doses)
        )

    @precondition(lambda self: self.cartons)
    @rule(
        data=st.data(),
        doses=st.integers(1, 10),
        reason=st.sampled_from(["open_vial", "broken", "other"]),
    )
    def waste(self, data, doses, reason):
        carton_id = data.draw(st.sampled_from(self.cartons))
        self.attempt(
            lambda s: custody.waste(s, PHARMACIST, self.clock.now(), carton_id, doses, reason)
        )

    @precondition(lambda self: self.cartons)
    @rule(data=st.data(), decision=st.sampled_from(["hold", "release", "discard"]))
    def hold_and_decide(self, data, decision):
        carton_id = data.draw(st.sampled_from(self.cartons))
        action = getattr(custody, decision)
        self.attempt(lambda s: action(s, PHARMACIST, self.clock.now(), carton_id, "checked"))

    @precondition(lambda self: self.cartons)
    @rule(data=st.data())
    def ship(self, data):
        picked = data.draw(
            st.lists(st.sampled_from(self.cartons), min_size=1, max_size=3, unique=True)
        )
        shipment = self.attempt(
            lambda s: (
                shipments.create_shipment(
                    s,
                    PHARMACIST,
                    self.clock.now(),
                    from_site="RH-APO",
                    to_site="RH-VC-BELLA",
                    cartons=picked,
                ).id
            )
        )
        if shipment:
            self.attempt(lambda s: shipments.dispatch(s, PHARMACIST, self.clock.now(), shipment))
            self.shipments.append(shipment)

    @precondition(lambda self: self.shipments)
    @rule(data=st.data(), accept=st.booleans())
    def deliver(self, data, accept):
        shipment_id = data.draw(st.sampled_from(self.shipments))

        def act(session):
            shipment = shipments.get_shipment(session, PHARMACIST, shipment_id)
            items = [
                shipments.DeliveryItem(
                    carton=i.carton_id, accepted=accept, reason=None if accept else "warm"
                )
                for i in shipment.items
            ]
            return shipments.receive(
                session,
                PHARMACIST,
                self.clock.now(),
                shipment_id,
                storage_unit="RH-VC-BELLA-F1",
                items=items,
            )

        self.attempt(act)

    @precondition(lambda self: self.lot_ids)
    @rule(data=st.data())
    def recall(self, data):
        lot_id = data.draw(st.sampled_from(self.lot_ids))
        self.attempt(lambda s: lots.recall(s, PHARMACIST, self.clock.now(), lot_id, "potency"))

    @rule(hours=st.integers(1, 24 * 20))
    def time_passes(self, hours):
        self.clock.advance(hours=hours)

    @invariant()
    def doses_are_conserved(self):
        if hasattr(self, "clock"):
            with unit_of_work(self.factory) as session:
                check_conservation(session)


def test_doses_are_conserved_through_any_sequence_of_operations(seeded):
    CustodyMachine.factory = seeded
    runner = CustodyMachine.TestCase
    runner.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    runner("runTest").runTest()
