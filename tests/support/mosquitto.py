"""A throwaway Mosquitto broker for tests and benchmarks.

Each broker runs from its own temporary directory on a free 127.0.0.1 port (never 1883,
where a system broker may be listening). With `persistence=True` a `restart()` keeps
persistent sessions and their queued QoS 1 messages: `stop()` sends SIGTERM, on which
Mosquitto saves its database; `kill()` (SIGKILL) loses whatever was not yet autosaved.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from devices.connection import connect, make_client

MOSQUITTO_CANDIDATES = (
    "/usr/sbin/mosquitto",
    "/usr/local/sbin/mosquitto",
    "/usr/local/bin/mosquitto",
)


def find_mosquitto() -> str | None:
    """Path of a Mosquitto binary: $MOSQUITTO_BIN, the usual install places, then $PATH."""
    explicit = os.environ.get("MOSQUITTO_BIN")
    if explicit and os.access(explicit, os.X_OK):
        return explicit
    for candidate in MOSQUITTO_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("mosquitto")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MosquittoError(RuntimeError):
    pass


class MosquittoBroker:
    HOST = "127.0.0.1"

    def __init__(
        self,
        *,
        passwd_file: str | os.PathLike[str] | None = None,
        acl_file: str | os.PathLike[str] | None = None,
        persistence: bool = True,
        autosave_interval: int = 1,
        max_queued_messages: int = 1_000_000,
        extra_config: str = "",
        binary: str | None = None,
    ) -> None:
        binary = binary or find_mosquitto()
        if binary is None:
            raise MosquittoError("no mosquitto binary found (install the 'mosquitto' package)")
        self.binary = binary
        self.passwd_file = Path(passwd_file).resolve() if passwd_file else None
        self.acl_file = Path(acl_file).resolve() if acl_file else None
        self.persistence = persistence
        self.autosave_interval = autosave_interval
        self.max_queued_messages = max_queued_messages
        self.extra_config = extra_config
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="mosquitto-test-")
        self.directory = Path(self._tmp.name)
        self.conf_path = self.directory / "mosquitto.conf"
        self.log_path = self.directory / "mosquitto.log"

    # --- address ---

    @property
    def url(self) -> str:
        if self.port is None:
            raise MosquittoError("broker not started")
        return f"mqtt://{self.HOST}:{self.port}"

    def url_for(self, username: str, password: str) -> str:
        return f"mqtt://{username}:{password}@{self.HOST}:{self._require_port()}"

    def _require_port(self) -> int:
        if self.port is None:
            raise MosquittoError("broker not started")
        return self.port

    # --- lifecycle ---

    def _config(self) -> str:
        lines = [
            f"listener {self.port} {self.HOST}",
            "per_listener_settings false",
            f"allow_anonymous {'false' if self.passwd_file else 'true'}",
            f"max_queued_messages {self.max_queued_messages}",
            f"log_dest file {self.log_path}",
            "log_type all",
            "log_timestamp_format %H:%M:%S",
            "connection_messages true",
        ]
        if os.geteuid() == 0:
            # As root, Mosquitto would switch to the 'mosquitto' account, which cannot
            # write into our temporary directory.
            lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        if self.passwd_file:
            lines.append(f"password_file {self.passwd_file}")
        if self.acl_file:
            lines.append(f"acl_file {self.acl_file}")
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.directory}/",
                f"autosave_interval {self.autosave_interval}",
            ]
        else:
            lines.append("persistence false")
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    def start(self) -> MosquittoBroker:
        if self.process is not None and self.process.poll() is None:
            return self
        fresh_port = self.port is None
        attempts = 3 if fresh_port else 1
        for attempt in range(attempts):
            if fresh_port:
                self.port = free_port(self.HOST)
            self.conf_path.write_text(self._config())
            with (self.directory / "stderr.log").open("ab") as stderr:
                self.process = subprocess.Popen(
                    [self.binary, "-c", str(self.conf_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )
            try:
                self.wait_ready()
                return self
            except MosquittoError:
                # Another process may have taken the port between probe and bind.
                self._terminate(signal.SIGKILL)
                if attempt == attempts - 1:
                    raise
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        port = self._require_port()
        while True:
            if self.process is None or self.process.poll() is not None:
                raise MosquittoError(f"mosquitto exited during start-up\n{self.log_text()}")
            try:
                with socket.create_connection((self.HOST, port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise MosquittoError(
                    f"mosquitto not ready on port {port} after {timeout} s\n{self.log_text()}"
                )
            time.sleep(0.02)

    def _terminate(self, sig: signal.Signals, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Graceful stop: Mosquitto writes its persistence database on SIGTERM."""
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        """Crash: no final save."""
        self._terminate(signal.SIGKILL)

    def restart(self) -> MosquittoBroker:
        """Stop gracefully and start again on the same port with the same database."""
        self.stop()
        return self.start()

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its password and ACL files."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGHUP)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        parts = []
        for path in (self.log_path, self.directory / "stderr.log"):
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(p for p in parts if p) or "(mosquitto wrote no log)"

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class MessageCollector:
    """A subscriber that records what it receives, for asserting on deliveries.

    with MessageCollector(broker.url, "coldchain/v1/devices/#") as inbox:
        ...publish...
        messages = inbox.wait_for(3)
    """

    def __init__(
        self, url: str, topic_filter: str, *, qos: int = 1, client_id: str = "test-collector"
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []  # (topic, payload, retained)
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._client = make_client(url, client_id, persistent=False)
        self._client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic_filter, qos=qos)
        self._client.on_subscribe = lambda c, u, mid, rcs, p: self._subscribed.set()
        self._client.on_message = self._on_message
        self._connect = lambda: connect(self._client)

    def _on_message(self, client: object, userdata: object, message: object) -> None:
        with self._cond:
            self.messages.append((message.topic, message.payload, bool(message.retain)))  # type: ignore[attr-defined]
            self._cond.notify_all()

    def start(self, timeout: float = 10.0) -> MessageCollector:
        self._connect()
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            raise MosquittoError("collector did not get a SUBACK")
        return self

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, bytes, bool]]:
        """All messages so far once at least `count` arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
            return list(self.messages)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> MessageCollector:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
