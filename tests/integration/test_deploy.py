"""The deploy files as shipped: gunicorn from deploy/gunicorn.conf.py serves the API on a
migrated database, /metrics answers its reader alone with every process's figures, and the
access log is JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devices.ingest import parse_args as ingest_args
from tests.support.database import migrate
from tests.support.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "scrape-secret-for-the-test"
START_TIMEOUT_S = 20


def get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}: {process.stdout.read()}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("gunicorn did not answer")


def record_elsewhere(folder: Path) -> subprocess.Popen:
    """What an ingest worker and the scheduler record, in a process and folder of their own
    (as the systemd units set them)."""
    record = (
        "from inventory import metrics; metrics.batch_committed('ingest-1', 0.02, 5, 1, 1); "
        "metrics.job_ran('roll_up_readings', False)"
    )
    return subprocess.Popen(
        [sys.executable, "-c", record],
        cwd=ROOT,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
    )


@pytest.fixture
def gunicorn(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'inventory.sqlite'}"
    metrics_dir = tmp_path / "metrics"
    (metrics_dir / "api").mkdir(parents=True)
    (metrics_dir / "api" / "counter_999999.db").write_bytes(b"")  # an earlier run's: cleared
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")},
        "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_SECRET_KEY": "test",
        "INVENTORY_BIND": f"127.0.0.1:{port}",
        "INVENTORY_WORKERS": "2",
        "INVENTORY_METRICS_TOKEN": METRICS_TOKEN,
        "INVENTORY_METRICS_DIR": str(metrics_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir / "api"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # while the workers start: the others' figures, and the schema
    recorder = record_elsewhere(metrics_dir / "ingest-1")
    migrate(database_url)
    base = f"http://127.0.0.1:{port}"
    try:
        assert recorder.wait(30) == 0
        wait_for(base + "/api/v1/health", process)
        yield base, process, metrics_dir
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_gunicorn_from_the_shipped_config_serves_health_and_metrics(gunicorn):
    base, process, metrics_dir = gunicorn
    status, body = get(base + "/api/v1/health")
    assert status == 200 and json.loads(body)["database"] == "ok"
    assert get(base + "/api/v1/cartons/1")[0] == 401
    assert get(base + "/metrics")[0] == 401
    assert get(base + "/metrics", "not-the-token")[0] == 401

    status, text = get(base + "/metrics", METRICS_TOKEN)
    assert status == 200
    lines = text.splitlines()
    # requests by URL rule (not the raw path) and status, from whichever worker answered
    assert any(
        line.startswith("inventory_http_requests_total{")
        and 'endpoint="/api/v1/health"' in line
        and 'status="200"' in line
        for line in lines
    )
    assert any(
        'endpoint="/api/v1/cartons/<id:carton_id>"' in line and 'status="401"' in line
        for line in lines
    ), [line for line in lines if "cartons" in line]
    assert "inventory_http_request_duration_seconds_bucket" in text
    # the other processes' figures, from their own folders
    assert 'inventory_ingest_readings_stored_total{worker="ingest-1"} 5.0' in lines
    assert 'inventory_ingest_dead_letters_total{worker="ingest-1"} 1.0' in lines
    assert "inventory_ingest_batch_commit_seconds_count" in text
    assert 'inventory_scheduler_job_runs_total{job="roll_up_readings",outcome="ok"} 1.0' in lines
    # read from the database at the scrape
    assert "inventory_open_excursions 0.0" in lines
    assert "inventory_database_up 1.0" in lines
    assert not (metrics_dir / "api" / "counter_999999.db").exists()

    process.terminate()
    output, _ = process.communicate(timeout=20)
    access = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    health = [a for a in access if a["path"] == "/api/v1/health"]
    assert health and health[0]["status"] == 200 and health[0]["method"] == "GET"
    assert {"time", "remote", "duration_ms", "bytes", "agent"} <= set(health[0])


def test_the_systemd_units_verify_and_their_commands_exist(tmp_path, monkeypatch):
    """systemd's own check of each unit as shipped (the install folder /opt/inventory read as
    this checkout and its virtual environment), and each command line taken by the program
    it names."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("needs systemd-analyze")
    units = []
    for shipped in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        unit = tmp_path / shipped.name.replace("@.", "@1.")
        text = shipped.read_text().replace("/opt/inventory/.venv", sys.prefix)
        unit.write_text(text.replace("/opt/inventory", str(ROOT)))
        units.append(unit)
    checked = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True
    )
    assert checked.returncode == 0 and not checked.stdout + checked.stderr, checked.stderr

    # the environment the units read (EnvironmentFile=), from the shipped example
    example = (ROOT / "deploy" / "inventory.env.example").read_text().splitlines()
    for key, _, value in (x.partition("=") for x in example if x and not x.startswith("#")):
        monkeypatch.setenv(key, value)
    commands = {unit.name: _exec_start(unit) for unit in units}
    assert commands["inventory-api.service"][1:] == [
        "--config",
        f"{ROOT}/deploy/gunicorn.conf.py",
        "wsgi:app",
    ]  # fmt: skip  (the config and app test_gunicorn_from_the_shipped_config... starts)
    ingest = commands["inventory-ingest@1.service"]
    assert ingest[1:3] == ["-m", "devices.ingest"]
    options = ingest_args([a.replace("${INVENTORY_INGEST_GROUP}", "") for a in ingest[3:]])
    assert (options.client_id, options.group) == ("ingest-1", "")
    scheduler = commands["inventory-scheduler.service"]
    help_text = subprocess.run(
        [*scheduler, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert help_text.returncode == 0, help_text.stderr


def _exec_start(unit: Path) -> list[str]:
    (line,) = [x for x in unit.read_text().splitlines() if x.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=").replace("%i", "1").split()
