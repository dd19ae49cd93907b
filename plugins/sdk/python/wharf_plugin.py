"""Wharf plugin SDK: the plugin side of the Wharf plugin protocol, version 1, in one module.

Standard library only (Python 3.11). A plugin is a few lines::

    from wharf_plugin import Plugin
    plugin = Plugin(name="my-sensor", version="1.0.0", subscriptions=[("devices/my/+/set", 1)])

    @plugin.on_command
    def command(msg): plugin.reply(msg, "done")

    def main(plugin):
        while not plugin.wait(5):
            plugin.publish("devices/my/temp", {"value": 21.5}, qos=1)

    plugin.run(main)

The SDK answers the handshake, frames lines, keeps the credit window (a QoS 1/2 publish blocks
while no credit is left), answers health pings, sends `logging` records to the host, hands
commands to a handler on a worker thread (or to the asyncio loop of `run_async`), and exits 0
once the host says `shutdown`. See docs/plugin-sdk.md.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import concurrent.futures
import inspect
import json
import logging
import os
import queue
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = ["PROTOCOL_VERSIONS", "Message", "Nack", "Plugin", "Stopped"]
__version__ = "1.0.0"

PROTOCOL_VERSIONS = (1, 1)  # the lowest and highest protocol version this SDK speaks
CAPABILITIES = ["credit", "commands", "health", "log"]
_LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning", logging.ERROR: "error"}
_log = logging.getLogger("wharf_plugin")


class Nack(Exception):
    """The host refused a publish; `reason` is the protocol's reason (`not-authorized`, ...)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason, self.message = reason, message


class Stopped(Exception):
    """The plugin is stopping (the host said `shutdown` or went away): the publish was not sent or not answered."""


@dataclass
class Message:
    """A command: a message the host delivered on one of the plugin's subscriptions."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The payload as text (invalid UTF-8 replaced)."""
        return self.payload.decode("utf-8", "replace")

    def json(self) -> Any:
        """The payload parsed as JSON (raises ValueError when it is not)."""
        return json.loads(self.payload)

    @property
    def response_topic(self) -> str | None:
        """The MQTT 5 response topic of a request, if any."""
        return self.properties.get("response_topic")

    @property
    def correlation_data(self) -> bytes | None:
        """The MQTT 5 correlation data of a request, if any."""
        data = self.properties.get("correlation_data_base64")
        return base64.b64decode(data) if isinstance(data, str) else None


class _Credit:
    """The credit window: a counting semaphore that threads and asyncio tasks can wait on."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._cond = threading.Condition()
        self._waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = collections.deque()
        self.closed = False

    def acquire(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self.count > 0 or self.closed)
            if self.closed:
                raise Stopped("plugin is stopping")
            self.count -= 1

    async def acquire_async(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                if self.closed:
                    raise Stopped("plugin is stopping")
                if self.count > 0:
                    self.count -= 1
                    return
                waiter = loop.create_future()
                self._waiters.append((loop, waiter))
            await waiter

    def _wake(self) -> None:
        self._cond.notify_all()
        while self._waiters:
            loop, waiter = self._waiters.popleft()
            loop.call_soon_threadsafe(lambda w=waiter: w.done() or w.set_result(None))

    def release(self) -> None:
        with self._cond:
            self.count += 1
            self._wake()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._wake()


class _HostLogHandler(logging.Handler):
    """Sends log records to the host as `log` lines."""

    def __init__(self, plugin: Plugin) -> None:
        super().__init__()
        self.plugin = plugin

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            level = _LEVELS.get(record.levelno, "error" if record.levelno > logging.ERROR else "info")
            fields = {str(k): str(v) for k, v in dict(getattr(record, "fields", {}) or {}).items()}
            fields.setdefault("logger", record.name)
            self.plugin.send_log(level, text, fields)
        except Exception:
            self.handleError(record)


class Plugin:
    """One plugin: its handshake, its publishes and their credit, its commands, health and shutdown."""

    def __init__(
        self,
        name: str,
        version: str,
        subscriptions: Iterable[tuple[str, int] | str] = (),
        *,
        max_queued_commands: int = 1000,
        stdin: IO[bytes] | None = None,
        stdout: IO[bytes] | None = None,
    ) -> None:
        self.name, self.version = name, version
        self.subscriptions = [(s, 0) if isinstance(s, str) else (s[0], int(s[1])) for s in subscriptions]
        self.init: dict[str, Any] = {}
        self.config: dict[str, Any] = {}
        self.max_line_bytes = 1048576
        self.protocol = PROTOCOL_VERSIONS[1]
        self.stopping = threading.Event()
        self.garbage = 0  # lines from the host that were not valid protocol
        self.dropped_commands = 0  # commands dropped because the handler fell max_queued_commands behind
        self.grace_ms = 5000
        self._in, self._out = stdin, stdout
        self._write_lock = threading.Lock()
        self._credit = _Credit(0)
        self._pending: dict[int, Future[None]] = {}
        self._pending_lock = threading.Lock()
        self._next_id = 0
        self._health = ("healthy", "")
        self._commands: queue.Queue[Message] = queue.Queue(max_queued_commands)
        self._command_handler: Callable[[Message], Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._init_handler: Callable[[Plugin], Any] | None = None
        self.configured = True  # False when the on_init handler refused the configuration
        self.instance = name  # the adapter's name in wharf.yaml (init's `name`), once started
        self._async = False
        self._loop_ready = threading.Event()
        self._owns_process = False  # True when the SDK took over stdin/stdout (and may exit the process)

    # --- registration ----------------------------------------------------------------------
    def on_command(self, handler: Callable[[Message], Any]) -> Callable[[Message], Any]:
        """Decorator: `handler(msg)` gets every command, in order; a coroutine function runs on the asyncio loop."""
        self._command_handler = handler
        return handler

    def on_init(self, handler: Callable[[Plugin], Any]) -> Callable[[Plugin], Any]:
        """Decorator: `handler(plugin)` runs after `init`, before `ready`: read `plugin.config`, set `subscriptions`.

        If it raises, the plugin answers `ready` without subscriptions, reports health `failed` with the
        error, and waits for shutdown without running main (a restart would not fix a configuration).
        """
        self._init_handler = handler
        return handler

    # --- running -----------------------------------------------------------------------------
    def run(self, main: Callable[[Plugin], Any] | None = None, *, log_level: int = logging.INFO) -> None:
        """Handshake, then `main(plugin)` on this thread; returns once the host said shutdown (exit status 0)."""
        self._start(log_level)
        try:
            if main is not None and self.configured:
                main(self)
            self.stopping.wait()
        except Stopped:
            pass
        except Exception:
            _log.exception("plugin %s failed", self.name)
            raise SystemExit(1) from None
        self._finish()

    def run_async(
        self, main: Callable[[Plugin], Awaitable[Any]] | None = None, *, log_level: int = logging.INFO
    ) -> None:
        """Like `run`, with `await main(plugin)` on an asyncio loop; cancelled once the host says shutdown."""
        self._async = True
        self._start(log_level)

        async def runner() -> None:
            self._loop = asyncio.get_running_loop()
            self._loop_ready.set()
            stopped = self._loop.run_in_executor(None, self.stopping.wait)
            work = asyncio.ensure_future(main(self)) if main is not None and self.configured else None
            await asyncio.wait([stopped, *([work] if work else [])], return_when=asyncio.FIRST_COMPLETED)
            if work is not None and work.done() and not work.cancelled():
                error = work.exception()
                if error is not None and not isinstance(error, Stopped):
                    raise error
            await stopped
            if work is not None:
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)

        try:
            asyncio.run(runner())
        except Exception:
            _log.exception("plugin %s failed", self.name)
            raise SystemExit(1) from None
        self._finish()

    def wait(self, seconds: float | None = None) -> bool:
        """Sleep up to `seconds`; True as soon as the plugin is stopping (the loop condition of a main)."""
        return self.stopping.wait(seconds)

    def _start(self, log_level: int) -> None:
        if self._in is None:  # own the real stdout; stray prints go to stderr, never into the protocol
            self._owns_process = True
            self._in = os.fdopen(os.dup(0), "rb")
            self._out = os.fdopen(os.dup(1), "wb")
            os.dup2(2, 1)
            sys.stdout = sys.stderr
        root = logging.getLogger()
        root.addHandler(_HostLogHandler(self))
        root.setLevel(log_level)
        self._handshake()
        threading.Thread(target=self._read_loop, name="wharf-plugin-reader", daemon=True).start()
        threading.Thread(target=self._command_loop, name="wharf-plugin-commands", daemon=True).start()

    def _finish(self) -> None:
        """Wait (within the grace period) for the answers to what was sent, then flush."""
        deadline = max(0.0, self.grace_ms / 1000 * 0.8)
        with self._pending_lock:
            waiting = list(self._pending.values())
        concurrent.futures.wait(waiting, timeout=deadline)
        with self._write_lock:
            try:
                self._out.flush()  # type: ignore[union-attr]
            except OSError:
                pass

    # --- handshake ---------------------------------------------------------------------------
    def _handshake(self) -> None:
        while True:
            line = self._readline()
            if line is None:
                raise SystemExit(0)  # the host went away before init
            obj = self._decode(line)
            if obj is not None and obj.get("type") == "init":
                break
        self.init = obj
        self.config = obj.get("config") if isinstance(obj.get("config"), dict) else {}
        self.max_line_bytes = _int(obj.get("max_line_bytes"), 1048576)
        self._credit = _Credit(_int(obj.get("credit"), 1))
        offered = obj.get("protocol") if isinstance(obj.get("protocol"), dict) else {}
        low, high = _int(offered.get("min"), 1), _int(offered.get("max"), 1)
        common = range(max(low, PROTOCOL_VERSIONS[0]), min(high, PROTOCOL_VERSIONS[1]) + 1)
        if common:
            self.protocol = common[-1]
        else:
            # Answer with our own version anyway: the host then refuses with a clear log line and
            # quarantines at once, where an exit would only be retried as a crash.
            self.send_log(
                "error",
                f"this plugin speaks protocol {PROTOCOL_VERSIONS[0]} to {PROTOCOL_VERSIONS[1]}; "
                f"the host offers {low} to {high}",
            )
        self.instance = str(obj.get("name") or self.name)
        if self._init_handler is not None:
            try:
                self._init_handler(self)
            except Exception as error:
                # A configuration a restart cannot fix: say so through health instead of crash-looping.
                _log.exception("plugin %s: configuration refused", self.instance)
                self.subscriptions, self.configured = [], False
                self._health = ("failed", f"configuration: {error}")
        subscriptions = [{"filter": f, "qos": q} for f, q in self.subscriptions]
        self._send(
            {
                "type": "ready",
                "protocol": self.protocol,
                "name": self.name,
                "version": self.version,
                "capabilities": CAPABILITIES,
                "subscriptions": subscriptions,
            }
        )
        if self._health != ("healthy", ""):
            self._send_health()

    # --- reading -----------------------------------------------------------------------------
    def _readline(self) -> bytes | None:
        """The next line without its end, None at EOF; an overlong line is skipped (counted as garbage)."""
        assert self._in is not None
        while True:
            line = self._in.readline(self.max_line_bytes + 2)
            if not line:
                return None
            if line.endswith(b"\n"):
                line = line[:-1].removesuffix(b"\r")
                if len(line) <= self.max_line_bytes:
                    return line
                self.garbage += 1
                continue
            if len(line) < self.max_line_bytes + 2:
                return line  # last line without a newline
            self.garbage += 1
            while line and not line.endswith(b"\n"):
                line = self._in.readline(65536)

    def _decode(self, line: bytes) -> dict[str, Any] | None:
        try:
            obj = json.loads(line.decode("utf-8"))
        except ValueError:
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            if line.strip():
                self.garbage += 1
            return None
        return obj

    def _read_loop(self) -> None:
        try:
            while (line := self._readline()) is not None:
                obj = self._decode(line)
                if obj is not None:
                    self._handle(obj)
        except (OSError, ValueError):
            pass
        self._stop()  # EOF: the host is gone or done with us

    def _handle(self, obj: dict[str, Any]) -> None:
        kind = obj["type"]
        if kind in ("ack", "nack"):
            ident = obj.get("id")
            with self._pending_lock:
                future = self._pending.pop(ident, None) if type(ident) is int else None
            if future is None:
                self.garbage += 1  # an answer to nothing we are waiting for
                return
            self._credit.release()
            if kind == "ack":
                future.set_result(None)
            else:
                future.set_exception(Nack(str(obj.get("reason", "")), str(obj.get("message", ""))))
        elif kind == "health":
            self._send_health()
        elif kind == "command":
            message = _message(obj)
            if message is None:
                self.garbage += 1
            elif self._command_handler is not None:
                try:
                    self._commands.put_nowait(message)
                except queue.Full:
                    self.dropped_commands += 1
        elif kind == "shutdown":
            self.grace_ms = _int(obj.get("grace_ms"), 5000)
            self._stop()
        else:
            self.garbage += 1  # a type of a later version: ignored

    def _stop(self) -> None:
        self.stopping.set()
        self._credit.close()
        if not self._owns_process:
            return
        # Exit even if main does not return: the host sends SIGTERM once the grace period is over.
        timer = threading.Timer(max(0.05, self.grace_ms / 1000 * 0.9), self._exit_now)
        timer.daemon = True
        timer.start()

    def _exit_now(self) -> None:
        try:
            if self._write_lock.acquire(timeout=0.2):  # not if a write is stuck on a full pipe
                self._out.flush()  # type: ignore[union-attr]
        finally:
            os._exit(0)

    def _command_loop(self) -> None:
        if self._async:
            self._loop_ready.wait()  # commands run on the loop of run_async, never on another
        while True:
            message = self._commands.get()
            handler = self._command_handler
            try:
                if handler is None:
                    continue
                if self._loop is not None:
                    asyncio.run_coroutine_threadsafe(_call(handler, message), self._loop).result()
                elif inspect.iscoroutinefunction(handler):
                    asyncio.run(handler(message))
                else:
                    handler(message)
            except Exception:
                _log.exception("command handler failed on %s", message.topic)

    # --- writing -----------------------------------------------------------------------------
    def _send(self, obj: dict[str, Any]) -> None:
        if self._out is None:
            raise Stopped("the plugin has not started")
        data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(data) > self.max_line_bytes:
            raise ValueError(f"line of {len(data)} bytes is longer than max_line_bytes {self.max_line_bytes}")
        with self._write_lock:
            try:
                self._out.write(data + b"\n")  # type: ignore[union-attr]
                self._out.flush()  # type: ignore[union-attr]
            except (BrokenPipeError, ValueError) as error:
                self.stopping.set()
                self._credit.close()
                raise Stopped("the host closed the pipe") from error

    def _publish_line(self, topic: str, payload: Any, qos: int, retain: bool, props: dict[str, Any]) -> dict[str, Any]:
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, not {qos!r}")
        obj: dict[str, Any] = {"type": "publish", "topic": topic, "qos": qos, "retain": retain}
        if isinstance(payload, (dict, list, int, float, bool)):
            payload = json.dumps(payload, separators=(",", ":"))
            props.setdefault("content_type", "application/json")
        if isinstance(payload, str):
            obj["payload"] = payload
        elif isinstance(payload, (bytes, bytearray, memoryview)):
            try:
                obj["payload"] = bytes(payload).decode("utf-8")
            except UnicodeDecodeError:
                obj["payload_base64"] = base64.b64encode(payload).decode("ascii")
        elif payload is not None:
            raise TypeError(f"payload must be str, bytes or JSON-serialisable, not {type(payload).__name__}")
        if isinstance(props.get("correlation_data"), (bytes, bytearray)):
            props["correlation_data_base64"] = base64.b64encode(props.pop("correlation_data")).decode("ascii")
        if props:
            obj["properties"] = props
        return obj

    def _send_with_id(self, obj: dict[str, Any]) -> Future[None]:
        """Send a QoS 1/2 publish that holds a credit; the future completes with its answer."""
        future: Future[None] = Future()
        with self._pending_lock:
            self._next_id += 1
            obj["id"] = ident = self._next_id
            self._pending[ident] = future
        try:
            self._send(obj)
        except BaseException:
            with self._pending_lock:
                self._pending.pop(ident, None)
            self._credit.release()
            raise
        return future

    def submit(
        self, topic: str, payload: Any = b"", qos: int = 0, retain: bool = False, **properties: Any
    ) -> Future[None]:
        """Send a publish; a QoS 1/2 one waits for credit first. The future completes on ack (Nack on nack)."""
        obj = self._publish_line(topic, payload, qos, retain, properties)
        if qos == 0:
            self._send(obj)
            done: Future[None] = Future()
            done.set_result(None)
            return done
        self._credit.acquire()
        return self._send_with_id(obj)

    def publish(self, topic: str, payload: Any = b"", qos: int = 0, retain: bool = False, **properties: Any) -> None:
        """Publish; at QoS 1/2 block until the host acknowledged it. Raises Nack or Stopped.

        `payload`: str, bytes (sent as text when valid UTF-8, else base64), or a JSON value (dict, list,
        number...) sent as JSON with content type application/json. `properties`: the protocol's
        `properties` members (`content_type`, `user_properties`...), and `correlation_data` as bytes.
        """
        try:
            self.submit(topic, payload, qos, retain, **properties).result()
        except concurrent.futures.CancelledError:
            raise Stopped("plugin is stopping") from None

    async def asubmit(
        self, topic: str, payload: Any = b"", qos: int = 0, retain: bool = False, **properties: Any
    ) -> Future[None]:
        """`submit` for asyncio: waits for credit without blocking the loop; the future completes on the answer."""
        obj = self._publish_line(topic, payload, qos, retain, properties)
        if qos == 0:
            self._send(obj)
            done: Future[None] = Future()
            done.set_result(None)
            return done
        await self._credit.acquire_async()
        return self._send_with_id(obj)

    async def apublish(
        self, topic: str, payload: Any = b"", qos: int = 0, retain: bool = False, **properties: Any
    ) -> None:
        """`publish` for asyncio: waits for credit and the ack without blocking the loop."""
        await asyncio.wrap_future(await self.asubmit(topic, payload, qos, retain, **properties))

    def reply(self, request: Message, payload: Any, qos: int = 0, **properties: Any) -> bool:
        """Publish `payload` to a request's response topic with its correlation data; False when it has none.

        Does not wait for the answer (a refusal is logged); at QoS 1/2 it waits for credit.
        """
        if not request.response_topic:
            return False
        if "correlation_data_base64" in request.properties:
            properties["correlation_data_base64"] = request.properties["correlation_data_base64"]
        self.submit(request.response_topic, payload, qos, False, **properties).add_done_callback(_log_nack)
        return True

    async def areply(self, request: Message, payload: Any, qos: int = 0, **properties: Any) -> bool:
        """`reply` for asyncio: waits for credit without blocking the loop."""
        if not request.response_topic:
            return False
        if "correlation_data_base64" in request.properties:
            properties["correlation_data_base64"] = request.properties["correlation_data_base64"]
        future = await self.asubmit(request.response_topic, payload, qos, False, **properties)
        future.add_done_callback(_log_nack)
        return True

    # --- health and logs ---------------------------------------------------------------------
    def set_health(self, status: str, message: str = "") -> None:
        """Set the status reported to the host (`healthy`, `degraded`, `failed`); sent at once when it changed."""
        if status not in ("healthy", "degraded", "failed"):
            raise ValueError(f"unknown health status {status!r}")
        if (status, message) != self._health:
            self._health = (status, message)
            self._send_health()

    @property
    def health(self) -> tuple[str, str]:
        """The status and message last set."""
        return self._health

    def _send_health(self) -> None:
        status, message = self._health
        try:
            self._send({"type": "health", "status": status, "message": message})
        except Stopped:
            pass

    def send_log(self, level: str, message: str, fields: dict[str, str] | None = None) -> None:
        """Send one `log` line; a message too long for one line is cut."""
        obj: dict[str, Any] = {"type": "log", "level": level, "message": message[: self.max_line_bytes // 8]}
        if fields:
            obj["fields"] = fields
        try:
            self._send(obj)
        except (Stopped, ValueError):
            pass


def _log_nack(future: Future[None]) -> None:
    if isinstance(future.exception(), Nack):
        _log.warning("reply refused: %s", future.exception())


async def _call(handler: Callable[[Message], Any], message: Message) -> None:
    result = handler(message)
    if inspect.isawaitable(result):
        await result


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _message(obj: dict[str, Any]) -> Message | None:
    """A command object as a Message; None when it is malformed."""
    topic = obj.get("topic")
    if not isinstance(topic, str):
        return None
    try:
        if isinstance(obj.get("payload_base64"), str):
            payload = base64.b64decode(obj["payload_base64"], validate=True)
        else:
            payload = str(obj.get("payload", "")).encode("utf-8")
    except ValueError:
        return None
    properties = obj.get("properties") if isinstance(obj.get("properties"), dict) else {}
    return Message(topic, payload, _int(obj.get("qos"), 0), obj.get("retain") is True, properties)
