"""The MQTT side's Flask command: Mosquitto's files from the device registry."""

from __future__ import annotations

import click

from devices.broker_config import write_broker_files
from inventory.db import unit_of_work
from inventory.passwords import hash_password
from inventory.services.devices import broker_accounts
from inventory.web_db import session_factory


@click.command("broker-config")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for passwd, acl, mosquitto.conf.",
)
@click.option(
    "--service-user",
    "service_users",
    multiple=True,
    metavar="NAME:PASSWORD",
    help="An account for the service's own clients (ingest, scheduler); may repeat.",
)
def broker_config(out_dir: str, service_users: tuple[str, ...]) -> None:
    """Write Mosquitto's password and ACL files from the device registry."""
    services = {}
    for item in service_users:
        name, _, password = item.partition(":")
        if not name or not password:
            raise click.BadParameter("NAME:PASSWORD", param_hint="--service-user")
        services[name] = hash_password(password)
    with unit_of_work(session_factory()) as session:
        accounts = broker_accounts(session)
    paths = write_broker_files(out_dir, accounts, services)
    click.echo(f"{len(accounts)} devices, {len(services)} service users")
    for name, path in paths.items():
        click.echo(f"{name}: {path}")
