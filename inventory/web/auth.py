"""Signing in and out, the start page, and changing one's own password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from inventory.domain.errors import InvalidInput
from inventory.services import users
from inventory.web.core import end_session, home_url, staff_blueprint, start_session
from inventory.web.i18n import gettext as _
from inventory.web_db import get_session, now

bp = staff_blueprint("auth", __name__, public=("login", "index", "logout"))


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired()])
    repeated = PasswordField(_l("New password again"), validators=[DataRequired()])


@bp.get("/")
def index():
    if g.get("user") is None:
        return redirect(url_for("auth.login"))
    return redirect(home_url(g.user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(home_url(g.user))
    form = SignInForm()
    error = None
    if g.get("session_expired"):
        error = _("Your session ended. Sign in again.")
    if form.validate_on_submit():
        result = users.sign_in(get_session(), now(), form.username.data, form.password.data)
        if result.user is not None:
            start_session(result.user)
            return redirect(_safe_next() or home_url(result.user), 303)
        # the same words whether the name is unknown, the password wrong or the name locked
        error = _(
            "Wrong username or password, or too many attempts: wait 15 minutes after "
            "5 failed attempts."
        )
        return render_template("auth/login.html", form=form, error=error)
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form, error=error), status


def _safe_next() -> str | None:
    target = request.args.get("next") or ""
    # only a path on this site, never another host
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("auth.login"), 303)


@bp.route("/account", methods=["GET", "POST"])
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.change_own_password(
                get_session(),
                g.user,
                now(),
                form.current.data,
                form.new.data,
                form.repeated.data,
            )
        except InvalidInput as exc:
            for field, messages in (exc.fields or {}).items():
                getattr(form, field).errors = [_field_message(m) for m in messages]
            return render_template("auth/account.html", form=form), 422
        start_session(g.user)  # the new epoch ends other sessions, not this one
        flash(_("Your password is changed."), "ok")
        return redirect(url_for("auth.account"), 303)
    return render_template("auth/account.html", form=form), 400 if form.errors else 200


def _field_message(message: str) -> str:
    """Service messages for a field, in the page's language."""
    known = {
        "wrong password": _("Wrong password."),
        "does not match": _("The two new passwords differ."),
        f"at least {users.MIN_PASSWORD_LENGTH} characters": _(
            "At least %(n)d characters.", n=users.MIN_PASSWORD_LENGTH
        ),
    }
    return known.get(message, message)
