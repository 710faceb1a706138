"""The web application for people: staff pages (signed in) and the public pages.

Set up here: CSRF on every form (Flask-WTF), languages (Flask-Babel: Danish by default,
English; `?lang=` remembered in the session, else the browser's Accept-Language), the filters
that show times in Europe/Copenhagen and numbers the Danish way, and the session cookie.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from inventory.web.i18n import translations
from inventory.web_db import settings

LANGUAGES = ("da", "en")
# English pages write dates and numbers the British way (31/12/2026 14:05), not the American
LOCALES = {"da": "da", "en": "en_GB"}
TIMEZONE = "Europe/Copenhagen"
HERE = Path(__file__).resolve().parent

csrf = CSRFProtect()
babel = Babel()


# Answers anyone may keep (the public pages): they neither read nor set the session cookie.
COOKIELESS_BLUEPRINTS = ("public",)
API_PREFIX = "/api/"


class SessionInterface(SecureCookieSessionInterface):
    """The signed cookie session, marked Secure whenever the request came over HTTPS."""

    def open_session(self, app: Flask, request):
        # the API goes by tokens alone: its requests never read the cookie (nor check its
        # signature), and a view that wrote to the session would fail loudly
        if request.path.startswith(API_PREFIX):
            return None
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def save_session(self, app: Flask, session, response) -> None:
        # a signed-in person's session would be refreshed on every answer, public ones too
        if request.blueprint not in COOKIELESS_BLUEPRINTS:
            super().save_session(app, session, response)


def select_language() -> str:
    """`?lang=` (remembered in the session), else the session's, else the browser's. The
    public pages go by `?lang=` and the browser only: their answers are the same for all."""
    chosen = request.args.get("lang")
    cookieless = request.blueprint in COOKIELESS_BLUEPRINTS
    if chosen in LANGUAGES:
        if not cookieless:
            session["lang"] = chosen
        return chosen
    if not cookieless and session.get("lang") in LANGUAGES:
        return session["lang"]
    return browser_language(request.headers.get("Accept-Language", ""))


@lru_cache(maxsize=256)
def browser_language(accept_language: str) -> str:
    """The language a browser asks for first among ours (few browsers, few headers: each
    header is read once)."""
    accepted = parse_accept_header(accept_language, LanguageAccept)
    return accepted.best_match(LANGUAGES) or LANGUAGES[0]


def select_locale() -> str:
    return LOCALES[select_language()]


def init_app(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        BABEL_DEFAULT_LOCALE="da",
        BABEL_DEFAULT_TIMEZONE=TIMEZONE,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        # the form's token lives as long as the session; idle expiry is the session's business
        WTF_CSRF_TIME_LIMIT=None,
        # checked by each blueprint with forms (core.staff_blueprint, or core.protect_forms):
        # the API carries bearer tokens, not cookies
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: TIMEZONE)
    _translate_templates_from_the_requests_catalogue(app)

    from inventory.web import (
        auth,
        centre,
        coordination,
        core,
        filters,
        holds,
        plans,
        recall,
        receiving,
        region,
        repack,
        requests,
        shipments,
        sites,
        stock,
        units,
        users,
    )

    filters.init_app(app)
    core.init_app(app)
    for module in (
        auth,
        users,
        stock,
        receiving,
        repack,
        shipments,
        holds,
        requests,
        plans,
        recall,
        coordination,
        sites,
        centre,
        units,
        region,
    ):
        app.register_blueprint(module.bp)


def _translate_templates_from_the_requests_catalogue(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def _secret_key(app: Flask) -> str:
    """INVENTORY_SECRET_KEY, or one made once and kept in the instance folder, so every
    worker of one installation signs cookies alike."""
    configured = settings(app).secret_key
    if configured:
        return configured
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()
