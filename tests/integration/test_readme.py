"""The README's walk-through through the custody chain, run as written (its shell block,
taken from README.md itself) with curl against a real server on a seeded demo database: a
step that no longer fits the API fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from inventory import create_app
from inventory.clock import Clock
from inventory.db import unit_of_work
from inventory.db.models import Carton
from inventory.services import seed
from inventory.services.tokens import create_token
from tests.support.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[2]


def walk_through() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A walk through the custody chain", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def server(db, database_url):
    """The API on a free port, over the demo's network and stock, on today's clock."""
    now = Clock().now()
    with unit_of_work(db) as session:
        seed.load_catalogue(session)
        seed.load_network(session)
        seed.load_demo_stock(session, now)
        tokens = {
            name: create_token(session, now, role=role, name=name, site=site)[1]
            for name, role, site in (
                ("PHARMACIST", "pharmacist", "RH-APO"),
                ("CENTRE", "centre_manager", "RH-VC-BELLA"),
            )
        }
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    port = free_port()
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/api/v1", tokens
    http.shutdown()
    thread.join(10)
    app.extensions["inventory.engine"].dispose()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readme_walk_through_runs_as_written(server, db, tmp_path):
    url, tokens = server
    # every call must succeed: curl fails on an HTTP error, the shell on a failed command
    script = 'curl() { command curl --fail-with-body "$@"; }\n' + walk_through()
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env={**os.environ, "URL": url, **tokens},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert "<html" in (tmp_path / "label.html").read_text().lower()
    with unit_of_work(db) as session:
        at_centre = session.scalars(
            select(Carton).where(
                Carton.lot.has(number="GK2026A"), Carton.site.has(code="RH-VC-BELLA")
            )
        ).all()
    # 10 vials of 6 doses, 5 given and 1 wasted, then the recall held it
    assert [(c.doses, c.status) for c in at_centre] == [(54, "held")]
