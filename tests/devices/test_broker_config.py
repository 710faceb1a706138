import base64
import hashlib
import shutil
import stat
import subprocess
import threading

import paho.mqtt.client as mqtt
import pytest

from devices.broker_config import (
    acl_file,
    hash_password,
    password_file,
    verify_password,
    write_broker_files,
)
from devices.codec import (
    READINGS_TOPIC,
    alerts_topic,
    readings_topic,
    shared_subscription,
    status_topic,
)
from devices.connection import connect, make_client
from tests.support.mosquitto import MessageCollector

# --- hashing ---


def test_hash_has_mosquitto_pbkdf2_format():
    hashed = hash_password("s3cret", salt=b"0123456789ab", iterations=101)
    prefix, version, iterations, salt, digest = hashed.split("$")
    assert (prefix, version, iterations) == ("", "7", "101")
    assert base64.b64decode(salt) == b"0123456789ab"
    expected = hashlib.pbkdf2_hmac("sha512", b"s3cret", b"0123456789ab", 101, 64)
    assert base64.b64decode(digest) == expected


def test_hash_verifies_the_right_secret_only():
    hashed = hash_password("s3cret")
    assert verify_password("s3cret", hashed)
    assert not verify_password("s3cret ", hashed)
    assert not verify_password("", hashed)


def test_each_hash_has_its_own_salt():
    assert hash_password("same") != hash_password("same")


@pytest.mark.parametrize(
    "malformed", ["", "s3cret", "$6$abc$def", "$7$x$YWJj$ZGVm", "$7$101$!!$ZGVm"]
)
def test_malformed_hash_verifies_nothing(malformed):
    assert not verify_password("s3cret", malformed)


@pytest.mark.skipif(
    shutil.which("mosquitto_passwd") is None, reason="mosquitto_passwd not installed"
)
def test_hash_made_by_mosquitto_passwd_verifies(tmp_path):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "fr-001", "s3cret"], check=True)
    username, hashed = passwd.read_text().strip().split(":", 1)
    assert username == "fr-001"
    assert hashed.startswith("$7$101$")
    assert verify_password("s3cret", hashed)
    assert not verify_password("wrong", hashed)


# --- files ---


def test_password_file_lists_users_sorted_with_hashes():
    a, b = hash_password("a"), hash_password("b")
    assert password_file({"zz-2": b, "aa-1": a}) == f"aa-1:{a}\nzz-2:{b}\n"


def test_password_file_refuses_plain_text_passwords():
    with pytest.raises(ValueError):
        password_file({"fr-001": "s3cret"})


@pytest.mark.parametrize("bad_id", ["", "a/b", "fr+1", "fr#", "a:b", "a b", "x" * 65, "ü"])
def test_acl_refuses_invalid_device_ids(bad_id):
    with pytest.raises(ValueError):
        acl_file([bad_id], ["ingest"])


def test_acl_refuses_a_name_that_is_both_device_and_service():
    with pytest.raises(ValueError):
        acl_file(["ingest"], ["ingest"])


def test_acl_lets_each_device_write_only_its_own_topics():
    text = acl_file(["fr-001"], ["ingest"])
    device_block = text.split("user fr-001\n", 1)[1].split("\n\n", 1)[0]
    assert device_block.splitlines() == [
        f"topic write {readings_topic('fr-001')}",
        f"topic write {status_topic('fr-001')}",
    ]
    assert "pattern" not in text


def test_broker_files_are_written_with_a_private_password_file(tmp_path):
    paths = write_broker_files(
        tmp_path / "broker", {"fr-001": hash_password("a")}, {"ingest": hash_password("b")}
    )
    assert set(paths) == {"passwd", "acl", "conf"}
    assert stat.S_IMODE(paths["passwd"].stat().st_mode) == 0o600
    conf = paths["conf"].read_text().splitlines()
    assert "allow_anonymous false" in conf
    assert "per_listener_settings false" in conf
    assert f"password_file {paths['passwd'].resolve()}" in conf
    assert f"acl_file {paths['acl'].resolve()}" in conf
    assert [line.split(":")[0] for line in paths["passwd"].read_text().splitlines()] == [
        "fr-001",
        "ingest",
    ]


# --- against a real broker ---

SECRETS = {"fr-001": "secret-1", "fr-002": "secret-2"}
SERVICE = ("ingest", "ingest-secret")


@pytest.fixture
def secured_broker(tmp_path, mosquitto_factory):
    paths = write_broker_files(
        tmp_path,
        {device: hash_password(secret) for device, secret in SECRETS.items()},
        {SERVICE[0]: hash_password(SERVICE[1])},
    )
    return mosquitto_factory(passwd_file=paths["passwd"], acl_file=paths["acl"])


def connack_reason(url: str, client_id: str) -> mqtt.ReasonCode:
    """The CONNACK reason code for one connection attempt (no reconnects)."""
    result: list[mqtt.ReasonCode] = []
    done = threading.Event()
    client = make_client(url, client_id, persistent=False)

    def on_connect(c, userdata, flags, reason_code, properties):
        result.append(reason_code)
        done.set()
        c.disconnect()

    client.on_connect = on_connect
    connect(client)
    client.loop_start()
    try:
        assert done.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return result[0]


class Publisher:
    """A connected MQTT v5 client that records PUBACK reason codes by message id."""

    def __init__(self, url: str, client_id: str) -> None:
        self.acks: dict[int, mqtt.ReasonCode] = {}
        self._acked = threading.Condition()
        self._connected = threading.Event()
        self.client = make_client(url, client_id, persistent=False)
        self.client.on_connect = lambda c, u, f, rc, p: rc.is_failure or self._connected.set()
        self.client.on_publish = self._on_publish

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._acked:
            self.acks[mid] = reason_code
            self._acked.notify_all()

    def __enter__(self) -> "Publisher":
        connect(self.client)
        self.client.loop_start()
        assert self._connected.wait(10), "publisher did not connect"
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish_qos1(self, topic: str, payload: bytes) -> mqtt.ReasonCode:
        mid = self.client.publish(topic, payload, qos=1).mid
        with self._acked:
            assert self._acked.wait_for(lambda: mid in self.acks, timeout=10), "no PUBACK"
            return self.acks[mid]


@pytest.mark.mqtt
def test_broker_accepts_generated_password_and_refuses_a_wrong_one(secured_broker):
    assert not connack_reason(secured_broker.url_for("fr-001", "secret-1"), "fr-001").is_failure
    refused = connack_reason(secured_broker.url_for("fr-001", "secret-2"), "fr-001")
    assert refused.is_failure
    assert refused.getName() in {"Not authorized", "Bad user name or password"}
    assert connack_reason(secured_broker.url, "anonymous").is_failure


@pytest.mark.mqtt
def test_device_publishes_under_its_own_id_and_service_receives_it_through_a_share(secured_broker):
    service_url = secured_broker.url_for(*SERVICE)
    shared = shared_subscription("ingest", READINGS_TOPIC)
    with MessageCollector(service_url, shared, client_id="ingest-1") as inbox:
        with Publisher(secured_broker.url_for("fr-001", "secret-1"), "fr-001") as device:
            reason = device.publish_qos1(
                readings_topic("fr-001"), b'{"ts":"2026-11-21T10:00:00Z","c":4}'
            )
        assert not reason.is_failure
        assert [(t, p) for t, p, _ in inbox.wait_for(1)] == [
            (readings_topic("fr-001"), b'{"ts":"2026-11-21T10:00:00Z","c":4}')
        ]


@pytest.mark.mqtt
def test_device_cannot_publish_under_another_device_id(secured_broker):
    service_url = secured_broker.url_for(*SERVICE)
    with MessageCollector(service_url, "coldchain/v1/devices/#", client_id="ingest-1") as inbox:
        with Publisher(secured_broker.url_for("fr-001", "secret-1"), "fr-001") as device:
            forged = device.publish_qos1(readings_topic("fr-002"), b"forged")
            device.client.publish(status_topic("fr-002"), b"offline", qos=0)
            own = device.publish_qos1(readings_topic("fr-001"), b"own")
        # The own reading was published after the forged ones: once it has arrived,
        # the forged ones would have too.
        received = inbox.wait_for(1)
    assert forged.is_failure
    assert forged.getName() == "Not authorized"
    assert not own.is_failure
    assert [(t, p) for t, p, _ in received] == [(readings_topic("fr-001"), b"own")]


@pytest.mark.mqtt
def test_device_reads_nothing_not_even_alerts(secured_broker):
    # Mosquitto grants the subscription and checks read access per delivered message.
    service_url = secured_broker.url_for(*SERVICE)
    device_url = secured_broker.url_for("fr-001", "secret-1")
    with (
        MessageCollector(device_url, "#", client_id="fr-001") as device_inbox,
        MessageCollector(service_url, "coldchain/v1/#", client_id="ingest-1") as service_inbox,
    ):
        with Publisher(secured_broker.url_for("fr-002", "secret-2"), "fr-002") as other_device:
            other_device.publish_qos1(readings_topic("fr-002"), b"reading")
        with Publisher(service_url, "alerter") as service:
            service.publish_qos1(alerts_topic("KBH"), b"alert")
        assert len(service_inbox.wait_for(2)) == 2
        assert device_inbox.wait_for(1, timeout=0.5) == []


@pytest.mark.mqtt
def test_service_user_may_publish_alerts_and_devices_may_not(secured_broker):
    service_url = secured_broker.url_for(*SERVICE)
    with MessageCollector(service_url, "coldchain/v1/alerts/#", client_id="alerts-reader") as inbox:
        with Publisher(secured_broker.url_for("fr-001", "secret-1"), "fr-001") as device:
            assert device.publish_qos1(alerts_topic("KBH"), b"fake alert").is_failure
        with Publisher(service_url, "alerter") as service:
            assert not service.publish_qos1(alerts_topic("KBH"), b"alert").is_failure
        received = inbox.wait_for(1)
    assert [(t, p) for t, p, _ in received] == [(alerts_topic("KBH"), b"alert")]


# --- persistent sessions across a broker restart (what the ingest worker relies on) ---


@pytest.mark.mqtt
def test_persistent_session_receives_messages_queued_while_it_was_away_across_a_restart(mosquitto):
    subscribed = threading.Event()
    worker = make_client(mosquitto.url, "ingest-worker-1")  # persistent by default
    worker.on_connect = lambda c, u, f, rc, p: c.subscribe(READINGS_TOPIC, qos=1)
    worker.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
    connect(worker)
    worker.loop_start()
    assert subscribed.wait(10)
    worker.disconnect()
    worker.loop_stop()

    with Publisher(mosquitto.url, "fr-001") as device:
        assert not device.publish_qos1(readings_topic("fr-001"), b"queued").is_failure
    mosquitto.restart()

    received: list[bytes] = []
    arrived = threading.Event()
    worker = make_client(mosquitto.url, "ingest-worker-1")
    worker.on_message = lambda c, u, m: (received.append(m.payload), arrived.set())
    connect(worker)
    worker.loop_start()
    try:
        assert arrived.wait(10), "queued message not delivered after restart"
    finally:
        worker.disconnect()
        worker.loop_stop()
    assert received == [b"queued"]
