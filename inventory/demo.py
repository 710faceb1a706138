"""The demo: the whole service on one machine, on a SQLite file in ./demo-data.

API, Mosquitto (with generated passwords and ACL), the ingest worker, the scheduler and
simulated sensors in every storage unit of one region, over the seeded Danish-shaped network
and a season's stock. One fridge freezes and one logger goes silent on purpose, so readings,
an excursion, held stock and alerts show up within minutes.

    bin/demo [--port 5000] [--region Hovedstaden] [--interval 30] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port(preferred: int | None = None) -> int:
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto",) if Path(p).exists()), None
    )


# One person per role for the staff web application: (user name, role, site, region, name)
DEMO_PEOPLE = (
    ("admin", "admin", None, None, "Demo Administrator"),
    ("apotek", "pharmacist", "RH-APO", None, "Anne Apoteker"),
    ("bella", "centre_manager", "RH-VC-BELLA", None, "Bent Centerleder"),
    ("region", "coordinator", None, "Hovedstaden", "Rikke Koordinator"),
    ("revisor", "auditor", None, None, "Rasmus Revisor"),
)


def demo_people(session, now) -> list[tuple[str, str, str]]:
    """Make (or give new passwords to) one user per role; returns (user name, role, password)."""
    from sqlalchemy import select

    from inventory.db.people import User
    from inventory.services import users

    people = []
    for username, role, site, region, name in DEMO_PEOPLE:
        existing = session.scalar(select(User).where(User.username == username))
        password = users.generate_password()
        if existing is None:
            users.create_user(
                session,
                now,
                username=username,
                role=role,
                display_name=name,
                site=site,
                region=region,
                password=password,
            )
        else:  # passwords are shown once: a returning demo gives new ones
            existing.password_hash = users.hash_password(password)
            existing.session_epoch += 1
        people.append((username, role, password))
    return people


def prepare(data: Path, region: str, env: dict) -> tuple[str, list[dict], str, str, list]:
    """Migrate, seed, make a token and one user per role, register a logger in every storage
    unit of the region."""
    from sqlalchemy import select

    from inventory import create_app
    from inventory.db import unit_of_work
    from inventory.db.migrate import upgrade
    from inventory.db.models import Carton, Product, Site, StorageUnit
    from inventory.db.telemetry import Device
    from inventory.domain.custody import CartonStatus
    from inventory.services import devices, seed, uptake
    from inventory.services.access import SYSTEM
    from inventory.services.tokens import create_token
    from inventory.web_db import session_factory

    upgrade(env["INVENTORY_DATABASE_URL"])
    app = create_app({"DATABASE_URL": env["INVENTORY_DATABASE_URL"]})
    now = app.config["CLOCK"].now()
    factory = session_factory(app)
    with unit_of_work(factory) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
        seed.load_booking_url(session, now)
        uptake.load_seed(session, SYSTEM, now)
        seed.load_demo_stock(session, now)
    with unit_of_work(factory) as session:
        _, token = create_token(session, now, role="admin", name="demo admin")
        people = demo_people(session, now)
        registry = []
        units = session.scalars(
            select(StorageUnit).join(Site).where(Site.region == region).order_by(StorageUnit.code)
        ).all()
        known = {d.id: d for d in session.scalars(select(Device))}
        stocked = set(
            session.scalars(
                select(Carton.storage_unit_id).where(Carton.status == CartonStatus.AVAILABLE)
            )
        )
        for unit in units:
            device_id = f"log-{unit.code}".lower()
            if device_id in known:
                # secrets are shown once: a returning demo gives its loggers new ones
                secret = secrets.token_urlsafe(24)
                known[device_id].secret_hash = devices.hash_secret(secret)
            else:
                _, secret = devices.register_device(
                    session, SYSTEM, now, device_id=device_id, storage_unit=unit.code, interval_s=30
                )
            kind = "ultra_low_freezer" if unit.kind == "ultra_low_freezer" else unit.kind
            registry.append(
                {
                    "id": device_id,
                    "secret": secret,
                    "kind": kind,
                    "stocked": unit.id in stocked,
                    "unit": unit.code,
                }
            )
        # the freeze hits the fridge of flu and pneumococcal syringes (freezing ruins them),
        # never the one that holds a pharmacy's thawed trays and cartons
        thawed_mrna = set(
            session.scalars(
                select(Carton.storage_unit_id)
                .join(Product, Product.id == Carton.product_id)
                .where(Carton.state == "thawed", Product.programme == "covid-19")
            )
        )
    spared = {u.code for u in units if u.id in thawed_mrna}
    freezing = next(
        d for d in registry if d["kind"] == "fridge" and d["stocked"] and d["unit"] not in spared
    )
    silent = next(d for d in registry if d["kind"] == "fridge" and d is not freezing)
    return token, registry, freezing["id"], silent["id"], people


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--region", default="Hovedstaden")
    parser.add_argument(
        "--interval", type=int, default=30, help="seconds between a logger's readings"
    )
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    parser.add_argument("--data", default=str(ROOT / "demo-data"))
    args = parser.parse_args(argv)

    data = Path(args.data)
    if args.fresh and data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "INVENTORY_DATABASE_URL": f"sqlite:///{data / 'inventory.sqlite'}"}
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)

    mosquitto = find_mosquitto()
    if mosquitto is None:
        sys.exit("Mosquitto is not installed: bin/setup installs it (Debian package 'mosquitto').")

    print("preparing the database (migrate, seed the network and a season's stock) ...", flush=True)
    token, registry, freezing, silent, people = prepare(data, args.region, env)

    from devices.broker_config import write_broker_files
    from inventory.passwords import hash_password

    service_password = secrets.token_urlsafe(18)
    broker_dir = data / "broker"
    paths = write_broker_files(
        broker_dir,
        {d["id"]: hash_password(d["secret"]) for d in registry},
        {"inventory": hash_password(service_password)},
    )
    broker_port = free_port()
    conf = broker_dir / "demo.conf"
    conf.write_text(
        f"listener {broker_port} 127.0.0.1\n"
        f"persistence true\npersistence_location {broker_dir}/\nautosave_interval 5\n"
        f"log_dest file {broker_dir / 'mosquitto.log'}\n"
        + ("user root\n" if os.geteuid() == 0 else "")
        + Path(paths["conf"]).read_text()
    )
    env["INVENTORY_MQTT_URL"] = f"mqtt://inventory:{service_password}@127.0.0.1:{broker_port}"
    devices_file = data / "devices.json"
    devices_file.write_text(
        json.dumps([{k: d[k] for k in ("id", "secret", "kind")} for d in registry], indent=1)
    )
    api_port = free_port(args.port)

    logs = data / "logs"
    logs.mkdir(exist_ok=True)
    children: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, command: list[str]) -> None:
        out = open(logs / f"{name}.log", "a")
        children.append(
            (
                name,
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
            )
        )

    start("mosquitto", [mosquitto, "-c", str(conf)])
    time.sleep(0.5)
    start("ingest", [PYTHON, "-m", "devices.ingest", "--client-id", "demo-ingest"])
    start("scheduler", [PYTHON, "-m", "flask", "--app", "wsgi", "scheduler"])
    start(
        "api",
        [PYTHON, "-m", "flask", "--app", "wsgi", "run", "--port", str(api_port), "--no-reload"],
    )
    start(
        "simulator",
        [
            PYTHON,
            "-m",
            "devices.simulate",
            "--url",
            f"mqtt://127.0.0.1:{broker_port}",
            "--devices-file",
            str(devices_file),
            "--interval",
            str(args.interval),
            "--fault",
            f"thermostat_stuck:{freezing}:0",
            "--fault",
            f"silent:{silent}:{args.interval * 4}",
        ],
    )

    url = f"http://127.0.0.1:{api_port}"
    signins = "\n".join(
        f"    {role:<16} user {username:<9} password {password}"
        for username, role, password in people
    )
    print(
        f"""
The cold-chain service is running.

  staff pages    {url}/login
{signins}
  API            {url}/api/v1   (browse: {url}/api/v1/docs)
  token          {token}
  broker         mqtt://127.0.0.1:{broker_port}
                 ({len(registry)} loggers in {args.region}, one every {args.interval} s)
  public page    {url}/public/availability
  logs           {logs}/

Try (in another shell, from {ROOT}):
  export T={token}
  curl -s -H "Authorization: Bearer $T" "{url}/api/v1/cartons?site=RH-APO" | head -c 600; echo
  curl -s -H "Authorization: Bearer $T" "{url}/api/v1/alerts?state=open"
  curl -s -H "Authorization: Bearer $T" "{url}/api/v1/excursions?open=true"

More tokens (for the README's walk-through), against this demo's database:
  export INVENTORY_DATABASE_URL={env["INVENTORY_DATABASE_URL"]}
  export URL={url}/api/v1
  export PHARMACIST=$(.venv/bin/flask --app wsgi create-token --role pharmacist \
      --site RH-APO --name "Anne, Herlev pharmacy")
  export CENTRE=$(.venv/bin/flask --app wsgi create-token --role centre_manager \
      --site RH-VC-BELLA --name "Bella Center")

Logger {freezing} sits in a stocked fridge whose thermostat is stuck: a warning and the
freeze alarm within about three minutes, and the syringes in that fridge go on hold.
Logger {silent} falls silent after {args.interval * 4} s: a device-silent alarm follows.
Ctrl-C stops everything.
""",
        flush=True,
    )

    _supervise(children, logs)


def _supervise(children: list[tuple[str, subprocess.Popen]], logs: Path) -> None:
    """Until Ctrl-C, SIGTERM or one of the processes stopping: then stop them all."""

    def stop(*_):
        for _name, process in reversed(children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _name, process in reversed(children):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        time.sleep(2)
        for name, process in children:
            if process.poll() is not None:
                print(
                    f"{name} stopped (exit {process.returncode}); see {logs / (name + '.log')}",
                    flush=True,
                )
                stop()


if __name__ == "__main__":
    main()
