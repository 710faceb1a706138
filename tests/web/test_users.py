"""Admins manage accounts in the UI (audited under their name); the create-user command."""

from __future__ import annotations

import re

from sqlalchemy import select

from inventory.db.models import AuditEntry
from inventory.db.people import User
from tests.web.conftest import csrf_token, signed_in_client


def test_admin_creates_changes_and_disables_a_user(client, person, db):
    admin, _ = person("admin", username="boss")
    signed_in_client(client, admin)
    page = client.get("/users?lang=en").get_data(as_text=True)
    created = client.post(
        "/users",
        data={
            "csrf_token": csrf_token(page),
            "username": "Mette",
            "display_name": "Mette Madsen",
            "role": "centre_manager",
            "site": "RH-VC-BELLA",
            "region": "",
        },
    )
    assert created.status_code == 201
    password = re.search(r"\(shown once\): (\S+)</p>", created.get_data(as_text=True)).group(1)
    with db() as session:
        user = session.scalar(select(User).where(User.username == "mette"))
        assert user.role == "centre_manager" and user.region == "Hovedstaden"
    other = type(client)(client.application, client.response_wrapper)
    signed_in_client(other, "mette", password)
    edit = client.get(f"/users/{user.id}").get_data(as_text=True)
    changed = client.post(
        f"/users/{user.id}",
        data={
            "csrf_token": csrf_token(edit),
            "display_name": "Mette M.",
            "role": "centre_manager",
            "site": "RH-VC-BELLA",
            "region": "Hovedstaden",
            "disabled": "y",
        },
    )
    assert changed.status_code == 303
    assert other.get("/stock").status_code == 302  # disabled: her session is over
    with db() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries][-2:] == ["user.create", "user.update"]
    assert all("[boss]" in e.actor for e in entries[-2:])


def test_only_admins_manage_users(client, person):
    name, _ = person("pharmacist", site="RH-APO")
    signed_in_client(client, name)
    assert client.get("/users").status_code == 403


def test_create_user_command(app, seeded):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "anne",
            "--role",
            "pharmacist",
            "--site",
            "RH-APO",
            "--name",
            "Anne Hansen",
            "--password-stdin",
        ],
        input="a long secret 42\n",
    )
    assert result.exit_code == 0, result.output
    client = app.test_client()
    signed_in_client(client, "anne", "a long secret 42")
    generated = runner.invoke(args=["create-user", "bo", "--role", "auditor"])
    assert generated.exit_code == 0
    signed_in_client(app.test_client(), "bo", generated.output.strip())
    refused = runner.invoke(args=["create-user", "cm", "--role", "centre_manager"])
    assert refused.exit_code != 0
