"""paho-mqtt clients configured the one way this service uses them: callback API v2,
MQTT v5, credentials and TLS from an `mqtt://` / `mqtts://` URL, and (by default) a
persistent session so QoS 1 messages queued while a worker was away are delivered when it
comes back with the same client id.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devices.codec import MqttUrl, parse_mqtt_url

# How long the broker keeps a disconnected persistent session (and its queue), seconds.
SESSION_EXPIRY_SECONDS = 24 * 60 * 60
RECONNECT_MIN_DELAY = 1
RECONNECT_MAX_DELAY = 30


@dataclass(frozen=True)
class _Settings:
    url: MqttUrl
    persistent: bool


# What make_client was told, for connect(); paho has no place of its own for it.
_settings: weakref.WeakKeyDictionary[mqtt.Client, _Settings] = weakref.WeakKeyDictionary()


def make_client(url: str | MqttUrl, client_id: str, *, persistent: bool = True) -> mqtt.Client:
    """A configured, not yet connected client. Connect it with `connect()`."""
    parsed = parse_mqtt_url(url) if isinstance(url, str) else url
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if parsed.username is not None:
        client.username_pw_set(parsed.username, parsed.password)
    if parsed.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_DELAY, max_delay=RECONNECT_MAX_DELAY)
    _settings[client] = _Settings(parsed, persistent)
    return client


def connect_properties(*, persistent: bool, base: Properties | None = None) -> Properties:
    properties = base if base is not None else Properties(PacketTypes.CONNECT)
    if persistent and not hasattr(properties, "SessionExpiryInterval"):
        properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
    return properties


def connect(
    client: mqtt.Client,
    url: str | MqttUrl | None = None,
    *,
    keepalive: int = 30,
    properties: Properties | None = None,
    asynchronous: bool = False,
) -> None:
    """Connect to the URL given here or to make_client's. A persistent client never asks
    for a clean start, so the broker resumes its session (subscriptions and queue).

    With `asynchronous=True` the TCP connection is made by the network loop
    (`loop_start()` / `loop_forever()`), which also retries while the broker is down.
    Otherwise this raises OSError when the broker cannot be reached.
    """
    settings = _settings.get(client)
    persistent = settings.persistent if settings is not None else True
    if url is None:
        if settings is None:
            raise ValueError("no URL given and the client was not made by make_client")
        target = settings.url
    else:
        target = parse_mqtt_url(url) if isinstance(url, str) else url
    connect_with = client.connect_async if asynchronous else client.connect
    connect_with(
        target.host,
        target.port,
        keepalive=keepalive,
        clean_start=not persistent,
        properties=connect_properties(persistent=persistent, base=properties),
    )
