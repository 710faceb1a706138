"""Mosquitto as shipped for production (deploy/mosquitto/mosquitto.conf): TLS only, the
password and ACL files from broker-config, persistence on. The file is started as it is,
with only its paths and port moved into the test's folder; a line the test expects to move
and cannot find fails the test, so the file and the test cannot drift apart."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from devices.broker_config import hash_password, write_broker_files
from devices.codec import READINGS_TOPIC, readings_topic, shared_subscription
from tests.devices.test_broker_config import Publisher, connack_reason
from tests.support.mosquitto import MessageCollector, MosquittoBroker, find_mosquitto

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"
DEVICE = ("fr-001", "secret-1")
SERVICE = ("ingest", "ingest-secret")
READING = b'{"ts":"2026-11-21T10:00:00Z","c":4.5}'


class ShippedBroker(MosquittoBroker):
    """The shipped configuration with its paths moved under `folder` and its port free."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    @property
    def url(self) -> str:
        return f"mqtts://{self.HOST}:{self._require_port()}"

    def url_for(self, username: str, password: str) -> str:
        return f"mqtts://{username}:{password}@{self.HOST}:{self._require_port()}"

    def _config(self) -> str:
        moves = {
            "/etc/mosquitto/inventory/": f"{self.folder}/broker/",
            "/etc/mosquitto/certs/": f"{self.folder}/certs/",
            "persistence_location /var/lib/mosquitto/": f"persistence_location {self.directory}/",
            "\nlistener 8883\n": f"\nlistener {self.port} {self.HOST}\n",
            "log_dest syslog": f"log_dest file {self.log_path}",
        }
        text = SHIPPED.read_text()
        for shipped, here in moves.items():
            assert shipped in text, f"{SHIPPED.name} no longer has {shipped.strip()!r}"
            text = text.replace(shipped, here)
        if os.geteuid() == 0:  # as root Mosquitto would become 'mosquitto', who cannot read here
            text += f"\nuser {pwd.getpwuid(os.geteuid()).pw_name}\n"
        return text


def make_certificates(folder: Path) -> Path:
    """A certificate authority and the broker's certificate for 127.0.0.1, signed by it."""
    folder.mkdir()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=Region test CA")  # fmt: skip
    openssl("req", *curve, "-keyout", "mqtt.key", "-out", "mqtt.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "mqtt.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "mqtt.crt", "-days", "2", "-extfile", "san.ext")  # fmt: skip
    return folder / "ca.crt"


@pytest.fixture
def shipped_broker(tmp_path, monkeypatch):
    if find_mosquitto() is None or shutil.which("openssl") is None:
        pytest.skip("needs mosquitto and openssl")
    ca = make_certificates(tmp_path / "certs")
    paths = write_broker_files(
        tmp_path / "broker",
        {DEVICE[0]: hash_password(DEVICE[1])},
        {SERVICE[0]: hash_password(SERVICE[1])},
    )
    assert {paths["passwd"].name, paths["acl"].name} == {"passwd", "acl"}
    # the region's CA as the clients trust it: OpenSSL's default verify paths read this
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    broker = ShippedBroker(tmp_path).start()
    broker.ca = ca
    yield broker
    broker.close()


def handshake(port: int, cafile: Path | None) -> str:
    """The TLS version a client trusting only `cafile` (or the system's CAs) agrees on."""
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version() or ""


@pytest.mark.mqtt
def test_the_shipped_broker_speaks_tls_that_only_its_ca_vouches_for(shipped_broker, monkeypatch):
    assert handshake(shipped_broker.port, shipped_broker.ca) in {"TLSv1.2", "TLSv1.3"}
    monkeypatch.delenv("SSL_CERT_FILE")  # a client trusting the system's CAs alone
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(shipped_broker.port, None)


@pytest.mark.mqtt
def test_a_device_reading_reaches_the_ingest_share_over_tls(shipped_broker):
    shared = shared_subscription("ingest", READINGS_TOPIC)
    with MessageCollector(shipped_broker.url_for(*SERVICE), shared, client_id="ingest-1") as inbox:
        with Publisher(shipped_broker.url_for(*DEVICE), DEVICE[0]) as device:
            reason = device.publish_qos1(readings_topic(DEVICE[0]), READING)
        assert not reason.is_failure
        assert [(t, p) for t, p, _ in inbox.wait_for(1)] == [(readings_topic(DEVICE[0]), READING)]


@pytest.mark.mqtt
def test_the_shipped_broker_refuses_strangers_and_forgeries(shipped_broker):
    assert connack_reason(shipped_broker.url, "anonymous").is_failure
    assert connack_reason(shipped_broker.url_for(DEVICE[0], "guess"), DEVICE[0]).is_failure
    with Publisher(shipped_broker.url_for(*DEVICE), DEVICE[0]) as device:
        forged = device.publish_qos1(readings_topic("fr-002"), READING)
    assert forged.getName() == "Not authorized"
