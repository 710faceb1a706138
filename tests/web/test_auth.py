"""Signing in and out, lock-out, sessions, CSRF, own password (through the HTTP forms)."""

from __future__ import annotations

from sqlalchemy import func, select

from inventory.db.models import AuditEntry
from inventory.db.people import SignInAttempt
from tests.web.conftest import PASSWORD, csrf_token, signed_in_client


def _login(client, username, password):
    token = csrf_token(client.get("/login?lang=en").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_login_page_speaks_english_on_request_and_danish_by_default(client, seeded):
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">Username<" in english and ">Password<" in english and ">Sign in<" in english
    danish = client.get("/login", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert ">Brugernavn<" in danish and ">Adgangskode<" in danish and ">Log ind<" in danish
    assert ">Brugernavn<" in client.get("/login").get_data(as_text=True)  # Danish by default


def test_lang_parameter_is_remembered(client, seeded):
    client.get("/login?lang=en", headers={"Accept-Language": "da"})
    page = client.get("/login", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert ">Username<" in page


def test_root_redirects_to_login_then_home(client, person):
    assert client.get("/").headers["Location"].endswith("/login")
    name, _ = person("pharmacist", site="RH-APO")
    signed_in_client(client, name)
    assert client.get("/").headers["Location"].endswith("/stock")


def test_wrong_password_stays_on_the_page_with_an_error(client, person):
    name, _ = person("pharmacist", site="RH-APO")
    response = _login(client, name, "wrong password!")
    assert response.status_code == 200
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/stock").status_code == 302


def test_five_failures_lock_the_name_for_fifteen_minutes(client, person, clock, db):
    name, _ = person("pharmacist", site="RH-APO")
    answers = [_login(client, name, "nope nope nope").get_data(as_text=True) for _ in range(5)]
    locked = _login(client, name, PASSWORD)
    assert locked.status_code == 200 and "Wrong username or password" in locked.get_data(True)
    # an unknown name gets the very same answer
    unknown = _login(client, "nobody-here", "whatever12")
    assert _error_of(unknown.get_data(as_text=True)) == _error_of(answers[0])
    clock.advance(minutes=14)
    assert _login(client, name, PASSWORD).status_code == 200
    clock.advance(minutes=2)
    assert _login(client, name, PASSWORD).status_code == 303
    with db() as session:  # the attempts are in the database, so every worker sees them
        assert session.scalar(select(func.count()).select_from(SignInAttempt)) >= 1


def _error_of(html: str) -> str:
    start = html.index('id="login-error"')
    return html[start : html.index("</p>", start)]


def test_logout_needs_post_and_signs_out(client, person):
    name, _ = person("pharmacist", site="RH-APO")
    signed_in_client(client, name)
    page = client.get("/stock").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 303
    assert client.get("/stock").status_code == 302


def test_session_ends_after_thirty_idle_minutes(client, person, clock):
    name, _ = person("pharmacist", site="RH-APO")
    signed_in_client(client, name)
    clock.advance(minutes=29)
    assert client.get("/stock").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/stock").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/stock").status_code == 302


def test_session_ends_after_twelve_hours_however_busy(client, person, clock):
    name, _ = person("pharmacist", site="RH-APO")
    signed_in_client(client, name)
    for _ in range(25):
        clock.advance(minutes=29)
        if client.get("/stock").status_code != 200:
            break
    assert client.get("/stock").status_code == 302


def test_session_cookie_flags(client, person):
    name, _ = person("pharmacist", site="RH-APO")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
    )
    assert "Secure" in secure.headers["Set-Cookie"]


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, person, db):
    name, _ = person("pharmacist", site="RH-APO")
    assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 400
    assert client.get("/stock").status_code == 302
    signed_in_client(client, name)
    response = client.post(
        "/receive",
        data={
            "scan": "(01)05415062370566(17)271231(10)NOCSRF",
            "storage_unit": "RH-APO-ULT1",
            "vials": "10",
        },
    )
    assert response.status_code == 400
    from inventory.db.models import Carton

    with db() as session:
        assert session.scalar(select(func.count()).select_from(Carton)) == 0


def test_change_own_password(client, person, db):
    name, _ = person("pharmacist", site="RH-APO")
    signed_in_client(client, name)
    token = csrf_token(client.get("/account").get_data(as_text=True))
    wrong = client.post(
        "/account",
        data={
            "current": "not it at all",
            "new": "a new secret 1",
            "repeated": "a new secret 1",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422
    done = client.post(
        "/account",
        data={
            "current": PASSWORD,
            "new": "a new secret 1",
            "repeated": "a new secret 1",
            "csrf_token": token,
        },
    )
    assert done.status_code == 303
    assert client.get("/stock").status_code == 200  # this session goes on
    other = type(client)(client.application, client.response_wrapper)
    assert _login(other, name, PASSWORD).status_code == 200  # the old one no longer works
    assert _login(other, name, "a new secret 1").status_code == 303
    with db() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "user.change_password" in actions
