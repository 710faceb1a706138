"""Admins manage people's accounts: create, change role and scope, disable, reset a password
(the new one shown once). Every change is in the audit log under the admin's name."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from inventory.domain.errors import DomainError
from inventory.services import users
from inventory.services.access import ROLES, require
from inventory.web.core import role_name, staff_blueprint
from inventory.web.i18n import gettext as _
from inventory.web.messages import field_errors
from inventory.web_db import get_session, now

bp = staff_blueprint("users", __name__)


def role_names() -> dict[str, str]:
    return {r: role_name(r) for r in ROLES}


class UserForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=128)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r) for r in ROLES])
    site = StringField(_l("Site code"), validators=[Optional(), Length(max=64)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=64)])


class NewUserForm(UserForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])


class EditUserForm(UserForm):
    disabled = BooleanField(_l("Disabled (cannot sign in)"))


def _with_role_names(form: UserForm) -> UserForm:
    names = role_names()
    form.role.choices = [SelectChoice(r, names[r]) for r in ROLES]
    return form


@bp.route("/users", methods=["GET", "POST"])
def index():
    session = get_session()
    people = users.list_users(session, g.actor)
    form = _with_role_names(NewUserForm())
    if form.validate_on_submit():
        try:
            user, password = users.create_user(
                session,
                now(),
                username=form.username.data,
                role=form.role.data,
                display_name=form.display_name.data,
                site=form.site.data or None,
                region=form.region.data or None,
                actor=g.actor,
            )
        except DomainError as exc:
            field_errors(form, exc, default="username")
            return _list(people, form, 422)
        # shown in the answer itself, never put in the (signed, not encrypted) cookie
        created = (user.username, password)
        return _list(
            users.list_users(session, g.actor),
            _with_role_names(NewUserForm(formdata=None)),
            201,
            created,
        )
    return _list(people, form, 422 if form.errors else 200)


def _list(people, form, status, created=None):
    return render_template(
        "users/index.html", people=people, form=form, role_names=role_names(), created=created
    ), status


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def edit(user_id: int):
    session = get_session()
    person = users.get_user(session, g.actor, user_id)
    form = _with_role_names(EditUserForm(obj=None))
    if form.validate_on_submit():
        try:
            users.update_user(
                session,
                g.actor,
                now(),
                user_id,
                display_name=form.display_name.data,
                role=form.role.data,
                site=form.site.data or None,
                region=form.region.data or None,
                disabled=form.disabled.data,
            )
        except DomainError as exc:
            field_errors(form, exc, default="display_name")
            return _edit(person, form, 422)
        flash(_("The changes are saved."), "ok")
        return redirect(url_for("users.index"), 303)
    if not form.is_submitted():
        _fill(form, person)
    return _edit(person, form, 422 if form.errors else 200)


def _fill(form: EditUserForm, person) -> EditUserForm:
    form.display_name.data = person.display_name
    form.role.data = person.role
    form.site.data = person.site.code if person.site else ""
    form.region.data = person.region or ""
    form.disabled.data = person.disabled_at is not None
    return form


def _edit(person, form, status, new_password=None):
    return render_template(
        "users/edit.html", person=person, form=form, new_password=new_password
    ), status


@bp.post("/users/<id:user_id>/password")
def reset_password(user_id: int):
    require(g.actor, "users.manage")
    password = users.reset_password(get_session(), g.actor, now(), user_id)
    person = users.get_user(get_session(), g.actor, user_id)
    form = _fill(_with_role_names(EditUserForm(formdata=None)), person)
    return _edit(person, form, 200, new_password=password)
