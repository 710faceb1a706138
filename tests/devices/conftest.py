"""Fixtures for tests against a real Mosquitto, each on its own free loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.mosquitto import MosquittoBroker, find_mosquitto

MOSQUITTO_MISSING = "mosquitto binary not found (apt-get install mosquitto, or set MOSQUITTO_BIN)"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_call_failed] = report.failed
    return report


_call_failed = pytest.StashKey[bool]()


def _print_logs_if_failed(request: pytest.FixtureRequest, brokers: list[MosquittoBroker]) -> None:
    # Shown under "Captured stdout teardown" of a failing test.
    if request.node.stash.get(_call_failed, False):
        for broker in brokers:
            print(f"--- mosquitto log ({broker.directory}) ---\n{broker.log_text()}")


@pytest.fixture
def mosquitto_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., MosquittoBroker]]:
    """Start a broker with MosquittoBroker's options (passwd_file, acl_file, persistence...).
    Every broker started through it is stopped after the test."""
    if find_mosquitto() is None:
        pytest.skip(MOSQUITTO_MISSING)
    brokers: list[MosquittoBroker] = []

    def start(**options: Any) -> MosquittoBroker:
        broker = MosquittoBroker(**options)
        brokers.append(broker)
        return broker.start()

    yield start
    _print_logs_if_failed(request, brokers)
    for broker in brokers:
        broker.close()


@pytest.fixture
def mosquitto(mosquitto_factory: Callable[..., MosquittoBroker]) -> MosquittoBroker:
    """A started anonymous broker with persistence, for this test only."""
    return mosquitto_factory()
