"""The ingest worker's MQTT side, a process of its own: it holds the broker session, decodes
the messages it receives and hands them to the worker, and acknowledges what the worker has
committed.

    python -m devices.receiver --fd N    (started by devices.ingest.IngestWorker, not by hand)

Why a process: receiving is paho's Python work for every message, storing is the telemetry
service's; in one process they take turns on one interpreter lock. Apart, the broker session
is served on one core while batches are stored on the other, and still only messages whose
batch is committed are acknowledged.

The worker and this process talk over one socket (multiprocessing's Connection: pickled
tuples). First the worker sends the settings; after that:

    worker -> receiver: ("ack", [(mid, qos, connection), ...])  acknowledge, if still on
                                                                 that connection
                        ("publish", request, topic, payload)     publish at QoS 1, answer
                                                                 "published"
                        ("stop",)                                disconnect and exit
    receiver -> worker: ("messages", [(topic, payload, mid, qos, connection, decoded), ...])
                                                                 decoded: devices.codec.Message
                                                                 as plain tuples
                        ("connected", connection, session_present)
                        ("subscribed", refused)                  refused: the filters the
                                                                 broker refused
                        ("disconnected", reason)
                        ("published", request, error)            error: None when sent

A connection number is the worker's epoch for this process times CONNECTIONS_PER_EPOCH plus
a count of this process's connections: a message id means something only on the connection
it came on, so an acknowledgement for an earlier connection, or for a receiver that died and
was replaced, is dropped (the broker delivers those messages again).

If the worker dies (even by SIGKILL) the socket reaches end of file: this process
disconnects and exits at once, leaving what was not acknowledged with the broker. SIGINT
and SIGTERM are ignored here: sent to the whole process group, they are the worker's to
act on, and it stops this process once its last batch is acknowledged.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from devices.codec import READINGS_QOS, decode_message, payload_text
from devices.connection import connect, make_client

log = logging.getLogger("devices.receiver")

CONNECTIONS_PER_EPOCH = 1_000_000
# How long received messages wait to be handed over together: one pickled list per few
# milliseconds instead of one per message.
HAND_OVER_EVERY_S = 0.002
IDLE_CHECK_S = 0.5  # how often an idle hand-over looks whether it should stop


class Receiver:
    def __init__(self, conn: Connection, settings: dict[str, Any]) -> None:
        self.conn = conn
        self.filters: list[str] = settings["filters"]
        self.stale_filters: list[str] = settings.get("stale_filters", [])
        self._connection = settings["epoch"] * CONNECTIONS_PER_EPOCH
        self._connected = False
        self._send_lock = threading.Lock()
        self._received: list[tuple] = []
        self._arrived = threading.Condition()  # guards _received; notified when it fills
        self._stopping = threading.Event()
        self._receive_maximum = settings["receive_maximum"]
        self._clock_offset = settings["clock_offset"]

        client = make_client(settings["url"], settings["client_id"], persistent=True)
        client.manual_ack_set(True)
        client.suppress_exceptions = True  # belt and braces: the callbacks catch everything
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    def _send(self, *message: Any) -> None:
        with self._send_lock:
            self.conn.send(message)

    # --- paho callbacks (network thread): none may raise -----------------------------------

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        try:
            self._connection += 1
        except Exception:
            log.exception("on_pre_connect failed")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        try:
            if reason_code.is_failure:
                log.error("connection refused: %s", reason_code)
                return
            self._connected = True
            self._send(
                "connected", self._connection, bool(getattr(flags, "session_present", False))
            )
            if self.stale_filters and getattr(flags, "session_present", False):
                # an earlier run's subscriptions (plain, or another group's share), kept by
                # the session: gone before the new ones, or the stream would not be split
                client.unsubscribe(self.stale_filters)
            # Subscribing on every connect renews the subscriptions even if the broker lost
            # the session. Retained status messages are old news: never sent to us.
            options = SubscribeOptions(
                qos=READINGS_QOS, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND
            )
            client.subscribe([(f, options) for f in self.filters])
        except Exception:
            log.exception("on_connect failed")

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:  # type: ignore[no-untyped-def]
        try:
            pairs = zip(self.filters, reason_codes, strict=False)
            refused = [f"{f}: {rc}" for f, rc in pairs if rc.is_failure]
            self._send("subscribed", refused)
        except Exception:
            log.exception("on_subscribe failed")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        try:
            self._connection += 1
            self._connected = False
            self._send("disconnected", str(reason_code))
        except Exception:
            log.exception("on_disconnect failed")

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            with self._arrived:
                self._received.append((msg.topic, msg.payload, msg.mid, msg.qos, self._connection))
                if len(self._received) == 1:
                    self._arrived.notify()
        except Exception:
            # Unacknowledged, so it comes back after a reconnect.
            log.exception("could not take a message")

    # --- threads ---------------------------------------------------------------------------

    def _hand_over(self) -> None:
        """Decode what arrived (devices.codec: the worker's own process then only stores)
        and hand it over."""
        while not self._stopping.is_set():
            with self._arrived:
                if not self._received:
                    self._arrived.wait(IDLE_CHECK_S)
                    continue
            time.sleep(HAND_OVER_EVERY_S)  # let more arrive: one pickled list for them all
            with self._arrived:
                received, self._received = self._received, []
            if received:
                now = datetime.now(UTC) + self._clock_offset
                try:
                    self._send("messages", [(*r, _decoded(r[0], r[1], now)) for r in received])
                except OSError:
                    return  # the worker is gone; the main thread sees it too
                except Exception:
                    # Unacknowledged, so they come back after a reconnect; logged to be looked at.
                    log.exception("could not hand over %d messages", len(received))

    def run(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = self._receive_maximum
        connect(self.client, asynchronous=True, properties=properties)
        self.client.loop_start()
        hand_over = threading.Thread(target=self._hand_over, name="hand-over", daemon=True)
        hand_over.start()
        try:
            while True:
                try:
                    request = self.conn.recv()
                except (EOFError, OSError):
                    return  # the worker died: leave what is unacknowledged with the broker
                if request[0] == "stop":
                    return
                self._handle(request)
        finally:
            self._stopping.set()
            self.client.disconnect()
            self.client.loop_stop()

    def _handle(self, request: tuple) -> None:
        try:
            if request[0] == "ack":
                current = self._connection
                if self._connected:
                    for mid, qos, connection in request[1]:
                        if qos > 0 and connection == current:
                            self.client.ack(mid, qos)
            elif request[0] == "publish":
                _, number, topic, payload = request
                error = None
                if not self._connected:
                    error = "not connected to the broker"
                else:
                    info = self.client.publish(topic, payload, qos=1)
                    if info.rc != mqtt.MQTT_ERR_SUCCESS:
                        error = f"publish to {topic} failed: {mqtt.error_string(info.rc)}"
                self._send("published", number, error)
        except OSError:
            raise
        except Exception:
            log.exception("request %s failed", request[0])


def tune_collector() -> None:
    """For a long-running process once it has started (this one, the ingest worker, each
    API worker: deploy/gunicorn.conf.py): the objects made at start (modules, mappings, the
    app) are set aside from the cyclic collector, which then runs far less often. Batches
    and requests allocate heavily but hardly ever in cycles (reference counting frees them),
    while each full collection walks every object alive, the kept evaluators included: at
    the default thresholds that cost the ingest about a fifth of its store's time, and a
    90-day chart (its rows outlive two young collections) 30 ms one time in four."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def _decoded(topic: str, payload: bytes, now: datetime) -> tuple:
    """The decoded message as plain tuples, which unpickle without a call per object. The
    codec never raises; should it all the same, the message is a dead letter, not a stall."""
    try:
        message = decode_message(topic, payload, now)
    except Exception as exc:
        log.exception("could not decode a message on %s", topic)
        return (
            None,
            [],
            [(f"ingest_error: {type(exc).__name__}: {exc}", payload_text(payload))],
            None,
            None,
        )
    return (
        message.device_id,
        [(r.ts, r.c) for r in message.readings],
        [(r.reason, r.raw) for r in message.rejected],
        message.battery,
        message.status,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.receiver", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--fd", type=int, required=True, help="the socket shared with the worker")
    args = parser.parse_args(argv)
    # Ctrl-C, or a service manager's SIGTERM, reaches the whole group: the worker decides
    # when this process stops (after acknowledging what it stored), or its end does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    conn = Connection(args.fd)
    try:
        settings = conn.recv()
    except (EOFError, OSError):
        return 1
    logging.basicConfig(
        level=settings.get("log_level", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    tune_collector()
    Receiver(conn, settings).run()
    conn.close()
    return 0


if __name__ == "__main__":
    code = main()
    os._exit(code)  # no interpreter teardown: daemon threads may still hold paho's locks
