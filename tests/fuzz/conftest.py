"""What the schemathesis run did, printed after the tests (requests and failures per role)."""

from __future__ import annotations

from tests.fuzz.test_schemathesis import TALLY


def pytest_terminal_summary(terminalreporter):
    if not TALLY:
        return
    terminalreporter.section("schemathesis against /api/v1/openapi.json")
    for role, tally in TALLY.items():
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally["statuses"].items()))
        terminalreporter.write_line(
            f"{role}: {len(tally['labels'])} operations, {tally['requests']} requests, "
            f"{tally['failures']} failures, {tally['seconds']:.0f} s ({statuses})"
        )
