"""Flask commands: seed, create-token (and the long-running workers, registered by their modules)."""
from __future__ import annotations

import click
from flask import Flask, current_app

from inventory.db import unit_of_work
from inventory.web_db import session_factory


def init_app(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(create_token)


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also load the Danish-shaped network and a season's stock.")
def seed(demo: bool) -> None:
    """Load the product catalogue (idempotent); with --demo, the network and stock too."""
    from inventory.services import seed as seeding

    now = current_app.config["CLOCK"].now()
    with unit_of_work(session_factory()) as session:
        products = seeding.load_catalogue(session)
        click.echo(f"catalogue: {products} products added")
        if demo:
            sites = seeding.load_network(session)
            click.echo(f"network: {sites} sites added")
            pharmacies = seeding.load_demo_stock(session, now)
            click.echo(f"stock: seeded at {pharmacies} hospital pharmacies")


@click.command("create-token")
@click.option("--role", required=True, type=click.Choice(["admin", "pharmacist", "centre_manager", "coordinator", "auditor"]))
@click.option("--name", required=True, help="Who the token is for.")
@click.option("--site", default=None, help="Scope the token to a site code.")
@click.option("--region", default=None, help="Scope a coordinator to a region.")
def create_token(role: str, name: str, site: str | None, region: str | None) -> None:
    """Create an API token and print it (it is stored hashed and shown only now)."""
    from inventory.domain.errors import DomainError
    from inventory.services.tokens import create_token as make

    try:
        with unit_of_work(session_factory()) as session:
            _, raw = make(session, current_app.config["CLOCK"].now(), role=role, name=name, site=site, region=region)
    except DomainError as exc:
        raise click.ClickException(exc.message)
    click.echo(raw)
