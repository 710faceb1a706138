"""Flask commands: seed, create-token, create-user, import-appointments. (The scheduler and
broker-config commands live with their processes and are registered by the app factory.)"""

from __future__ import annotations

import re

import click
from flask import Flask, current_app

from inventory.db import unit_of_work
from inventory.services.appointments import AppointmentInput
from inventory.web_db import session_factory


def init_app(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(create_token)
    app.cli.add_command(revoke_token)
    app.cli.add_command(create_user)
    app.cli.add_command(import_appointments)
    app.cli.add_command(import_population)


@click.command("seed")
@click.option(
    "--demo", is_flag=True, help="Also load the Danish-shaped network and a season's stock."
)
def seed(demo: bool) -> None:
    """Load the product catalogue (idempotent); with --demo, the network and stock too."""
    from inventory.services import seed as seeding
    from inventory.services import uptake
    from inventory.services.access import Actor

    now = current_app.config["CLOCK"].now()
    with unit_of_work(session_factory()) as session:
        products = seeding.load_catalogue(session)
        click.echo(f"catalogue: {products} products added")
        uptake.load_seed(session, Actor(name="seed", role="admin"), now)
        if demo:
            sites = seeding.load_network(session)
            click.echo(f"network: {sites} sites added")
            seeding.load_booking_url(session, now)
            pharmacies = seeding.load_demo_stock(session, now)
            click.echo(f"stock: seeded at {pharmacies} hospital pharmacies")


@click.command("create-token")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "pharmacist", "centre_manager", "coordinator", "auditor"]),
)
@click.option("--name", required=True, help="Who the token is for.")
@click.option("--site", default=None, help="Scope the token to a site code.")
@click.option("--region", default=None, help="Scope a coordinator to a region.")
def create_token(role: str, name: str, site: str | None, region: str | None) -> None:
    """Create an API token and print it (it is stored hashed and shown only now)."""
    from inventory.domain.errors import DomainError
    from inventory.services.tokens import create_token as make

    try:
        with unit_of_work(session_factory()) as session:
            _, raw = make(
                session,
                current_app.config["CLOCK"].now(),
                role=role,
                name=name,
                site=site,
                region=region,
            )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(raw)


@click.command("revoke-token")
@click.option("--id", "token_id", type=int, default=None, help="The token's id.")
@click.option("--name", default=None, help="Every token with this name.")
def revoke_token(token_id: int | None, name: str | None) -> None:
    """Revoke API tokens: refused from now on (by other API processes within
    INVENTORY_TOKEN_CACHE_S seconds)."""
    from inventory.domain.errors import DomainError
    from inventory.services.tokens import revoke_tokens

    try:
        with unit_of_work(session_factory()) as session:
            revoked = revoke_tokens(
                session, current_app.config["CLOCK"].now(), token_id=token_id, name=name
            )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    if not revoked:
        raise click.ClickException("no such token (or already revoked)")
    click.echo(f"revoked: {', '.join(map(str, revoked))}")


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "pharmacist", "centre_manager", "coordinator", "auditor"]),
)
@click.option("--site", default=None, help="The site code the person works at.")
@click.option("--region", default=None, help="Scope a coordinator or pharmacist to a region.")
@click.option("--name", "display_name", default=None, help="The person's full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(
    username: str,
    role: str,
    site: str | None,
    region: str | None,
    display_name: str | None,
    password_stdin: bool,
) -> None:
    """Create a person's account for the web application. Without --password-stdin a
    password is generated and printed (once)."""
    import sys

    from flask.cli import ScriptInfo

    from inventory.domain.errors import DomainError
    from inventory.services.users import create_user as make

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        try:
            with unit_of_work(session_factory()) as session:
                user, password = make(
                    session,
                    current_app.config["CLOCK"].now(),
                    username=username,
                    role=role,
                    display_name=display_name,
                    site=site,
                    region=region,
                    password=password,
                )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    if password_stdin:
        click.echo(f"created {user.username}")
    else:
        click.echo(password)


@click.command("import-population")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_population(path: str) -> None:
    """Replace population figures from a CSV file (columns municipality_code,group,population;
    lines starting with # are comments), e.g. Statistics Denmark's FOLK1A by municipality and
    age band. Nothing is stored if any row is bad; each bad row is printed by its line."""
    from flask.cli import ScriptInfo

    from inventory.domain.errors import InvalidInput
    from inventory.services import uptake
    from inventory.services.access import Actor

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    with app.app_context():
        try:
            rows = uptake.parse_population(text)
        except InvalidInput as bad:
            for line, messages in (bad.fields or {}).items():
                click.echo(f"{line}: {'; '.join(messages)}", err=True)
            raise SystemExit(1) from None
        actor = Actor(name="import-population", role="admin")
        with unit_of_work(session_factory()) as session:
            count = uptake.replace_population(
                session, actor, current_app.config["CLOCK"].now(), rows
            )
    click.echo(f"population: {count} rows stored")


@click.command("import-appointments")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_appointments(path: str) -> None:
    """Import the booking system's CSV export (columns ref,site,day,slot,product,status,group).

    The header names the columns in any order and case; commas, semicolons (a spreadsheet set
    to Danish) and tabs are all read.

    Good rows are stored even when others are bad; each bad row is printed with its line
    number and field. Exits with status 1 if any row was bad, 0 otherwise.
    """
    from flask.cli import ScriptInfo

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        _import_appointments(path)


def _import_appointments(path: str) -> None:
    import csv

    from inventory.services import appointments
    from inventory.services.access import Actor
    from inventory.services.input import AppointmentSchema

    schema = AppointmentSchema()
    needed = {"ref", "site", "day", "slot", "product"}
    rows: list[AppointmentInput] = []
    lines: list[int] = []
    problems: list[tuple[int, str, list]] = []
    # Bytes that are not UTF-8 survive reading (as surrogates) so that only their row is refused.
    with open(path, newline="", encoding="utf-8-sig", errors="surrogateescape") as handle:
        header = handle.readline()
        handle.seek(0)
        # Spreadsheets set to Danish export with semicolons; the header says which is used.
        delimiter = max(",;\t", key=lambda d: len(needed & set(_columns(header.split(d)))))
        reader = csv.DictReader(handle, delimiter=delimiter)
        reader.fieldnames = _columns(reader.fieldnames or [])
        missing = needed - set(reader.fieldnames)
        if missing:
            raise click.ClickException(f"the header lacks the columns {', '.join(sorted(missing))}")
        for record in reader:
            row, refused = _read_row(schema, needed, record)
            if row is None:
                problems.extend((reader.line_num, name, messages) for name, messages in refused)
            else:
                rows.append(row)
                lines.append(reader.line_num)
    actor = Actor(name="import-appointments", role="admin")
    with unit_of_work(session_factory()) as session:
        counts, errors = appointments.upsert_good_rows(
            session, actor, current_app.config["CLOCK"].now(), rows
        )
    for index, fields in errors.items():
        for name, messages in fields.items():
            problems.append((lines[index], name, messages))
    for line, name, messages in sorted(problems):
        click.echo(f"line {line}: {name}: {'; '.join(str(m) for m in messages)}", err=True)
    summary = counts.as_dict()
    click.echo(
        ", ".join(f"{k} {v}" for k, v in summary.items())
        + f", rejected {len({p[0] for p in problems})}"
    )
    if problems:
        raise SystemExit(1)


_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _read_row(schema, needed: set[str], record: dict) -> tuple[AppointmentInput | None, list]:
    """One CSV record as an AppointmentInput, or None and what was wrong, field by field."""
    from marshmallow import ValidationError

    raw = {k: (v or "").strip() for k, v in record.items() if k is not None}
    raw = {k: v for k, v in raw.items() if v != "" or k in needed}
    if None in record:
        return None, [("_row", ["more fields than the header names"])]
    not_utf8 = sorted(k for k, v in raw.items() if _NOT_UTF8.search(v))
    if not_utf8:
        return None, [(k, ["not UTF-8 text: export the file as CSV UTF-8"]) for k in not_utf8]
    try:
        data = schema.load({k: v for k, v in raw.items() if k in schema.fields})
    except ValidationError as exc:
        return None, sorted(exc.normalized_messages().items())
    return AppointmentInput(**{**data, "group": data.get("group") or ""}), []


def _columns(names) -> list[str]:
    """Header names as the schema spells them, whatever the export's case and spacing."""
    return [name.strip().lower() for name in names]
