"""Web test fixtures: a real HTTP server for the app on a free port (a thread) against the
test database, Debian's Chromium driven by Playwright, and people who can sign in.

    def test_something(live_server, page, person):
        name, password = person("pharmacist", site="RH-APO")
        sign_in(page, live_server, name, password)
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from inventory.db import unit_of_work

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PASSWORD = "correct horse battery"


@pytest.fixture
def live_server(app):
    """The app served over HTTP on 127.0.0.1 and a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (bin/setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile speaking English (the labels outside checks use)."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def person(seeded, db, clock):
    """Make a person who can sign in: person('pharmacist', site='RH-APO') -> (name, password)."""
    from inventory.services.users import create_user

    made = []

    def make(role: str, site: str | None = None, region: str | None = None, username=None):
        name = username or f"{role.replace('_', '')}{len(made) + 1}"
        with unit_of_work(db) as session:
            create_user(
                session,
                clock.now(),
                username=name,
                role=role,
                site=site,
                region=region,
                display_name=f"{role.title()} {len(made) + 1}",
                password=PASSWORD,
            )
        made.append(name)
        return name, PASSWORD

    return make


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login?lang=en")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def settled(page) -> None:
    """Wait until htmx has settled every swap: a swapped part's `autofocus` field takes the
    focus 20 ms after it appears, so keys pressed in between (no person is that quick; a
    test is) would follow the focus back to it."""
    unsettled = ".htmx-request, .htmx-swapping, .htmx-added, .htmx-settling"
    expect(page.locator(unsettled)).to_have_count(0)


def signed_in_client(client, username: str, password: str = PASSWORD):
    """The Flask test client signed in through the real form (with its CSRF token)."""
    token = csrf_token(client.get("/login?lang=en").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


def csrf_token(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)
