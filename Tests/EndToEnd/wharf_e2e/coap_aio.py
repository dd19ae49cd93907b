"""aiocoap peers for the CoAP suites: devices that wharfd polls, observes and commands, and
observers of wharfd's resources, all on one event loop thread per test."""

from __future__ import annotations

import asyncio
import errno
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator, TypeVar

import pytest

from .broker import HOST
from .coap import WAIT, free_udp_port

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop on its own daemon thread; `run` executes a coroutine there, bounded."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="aiocoap", daemon=True)
        self.thread.start()

    def run(self, coroutine: Awaitable[T], timeout: float = WAIT) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def call(self, function: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(function)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Events:
    """A thread-safe list with bounded waits (aiocoap callbacks add, tests wait)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def add(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = WAIT) -> list[Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"condition not met within {timeout} s; have {self.items[-10:]}")
            return list(self.items)

    def wait(self, count: int, timeout: float = WAIT) -> list[Any]:
        return self.wait_for(lambda items: len(items) >= count, timeout)

    def snapshot(self) -> list[Any]:
        with self._cond:
            return list(self.items)


class CoapDevice:
    """A CoAP server played by aiocoap on 127.0.0.1 and a free port, as a sensor with an actuator.

    - `/temp`: GET returns `value` as text/plain; observable; `set(value)` notifies observers.
      Every GET (plain or Observe registration) is counted in `gets`/`observes`.
    - `/led`: PUT/POST stores the payload in `commands` and answers 2.04 `ok:<payload>`.
    """

    def __init__(self, loop: LoopThread, value: bytes = b"20.0") -> None:
        self.loop = loop
        self.port = free_udp_port()
        self.value = value
        self.gets = 0
        self.observes = 0
        self.commands = Events()
        self._temp: Any = None
        self._context: Any = None

    @property
    def url(self) -> str:
        return f"coap://{HOST}:{self.port}"

    def start(self) -> "CoapDevice":
        # aiocoap binds UDP and TCP on the port; a port free for UDP can be taken for TCP (another
        # test's broker on a fixed port), so a port found in use is replaced by another.
        for attempt in range(5):
            try:
                self.loop.run(self._start())
                return self
            except OSError as error:
                if error.errno != errno.EADDRINUSE or attempt == 4:
                    raise
                self.port = free_udp_port()
        return self

    async def _start(self) -> None:
        import aiocoap
        import aiocoap.resource as resource

        device = self

        class Temp(resource.ObservableResource):
            async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
                if request.opt.observe is not None:
                    device.observes += 1
                else:
                    device.gets += 1
                return aiocoap.Message(payload=device.value, content_format=0)

        class Led(resource.Resource):
            async def _command(self, request: aiocoap.Message) -> aiocoap.Message:
                device.commands.add(request.payload)
                return aiocoap.Message(code=aiocoap.CHANGED, payload=b"ok:" + request.payload)

            render_put = _command
            render_post = _command

        site = resource.Site()
        self._temp = Temp()
        site.add_resource(["temp"], self._temp)
        site.add_resource(["led"], Led())
        self._context = await aiocoap.Context.create_server_context(site, bind=(HOST, self.port))

    def set(self, value: bytes) -> None:
        """A new reading: observers get a notification."""

        def update() -> None:
            self.value = value
            self._temp.updated_state()

        self.loop.call(update)

    def stop(self) -> None:
        if self._context is not None:
            try:
                self.loop.run(self._context.shutdown(), timeout=5)
            except Exception:  # noqa: BLE001 - teardown must not mask the test's result
                pass
            self._context = None


@dataclass
class Notification:
    """One response of an aiocoap observation (the first response included)."""

    code: str
    payload: bytes
    content_format: int | None
    observe: int | None


class CoapObserver:
    """An aiocoap client observing one URI; every response lands in `notifications`."""

    def __init__(self, loop: LoopThread, url: str) -> None:
        self.loop = loop
        self.url = url
        self.notifications = Events()
        self.ended = threading.Event()
        self._request: Any = None
        self._context: Any = None
        self._task: Any = None

    def start(self, timeout: float = WAIT) -> Notification:
        """Registers; returns the first response (the current value, or an error code)."""
        return self.loop.run(self._start(), timeout)

    async def _start(self) -> Notification:
        import aiocoap

        self._context = await aiocoap.Context.create_client_context()
        self._request = self._context.request(aiocoap.Message(code=aiocoap.GET, uri=self.url, observe=0))
        first = await self._request.response
        self.notifications.add(self._notification(first))
        self._task = asyncio.ensure_future(self._follow())
        return self.notifications.items[0]

    @staticmethod
    def _notification(message: Any) -> Notification:
        cf = message.opt.content_format
        return Notification(
            str(message.code.dotted), bytes(message.payload), None if cf is None else int(cf), message.opt.observe
        )

    async def _follow(self) -> None:
        try:
            async for message in self._request.observation:
                self.notifications.add(self._notification(message))
        except Exception:  # noqa: BLE001 - the observation ended (error response or cancellation)
            pass
        finally:
            self.ended.set()

    def payloads(self) -> list[bytes]:
        return [n.payload for n in self.notifications.snapshot()]

    def stop(self) -> None:
        async def stop() -> None:
            if self._request is not None and not self._request.observation.cancelled:
                self._request.observation.cancel()
            if self._task is not None:
                self._task.cancel()
            if self._context is not None:
                await self._context.shutdown()

        try:
            self.loop.run(stop(), timeout=5)
        except Exception:  # noqa: BLE001 - teardown must not mask the test's result
            pass


async def aiocoap_request(method: str, url: str, payload: bytes = b"", **options: Any) -> Notification:
    """One aiocoap request with its own client context."""
    import aiocoap

    context = await aiocoap.Context.create_client_context()
    try:
        code = getattr(aiocoap, method.upper())
        response = await context.request(aiocoap.Message(code=code, uri=url, payload=payload, **options)).response
        return CoapObserver._notification(response)
    finally:
        await context.shutdown()


@pytest.fixture
def coap_loop() -> Iterator[LoopThread]:
    """An event loop thread for aiocoap devices and observers, stopped at teardown."""
    loop = LoopThread()
    yield loop
    loop.stop()


@pytest.fixture
def coap_device(coap_loop: LoopThread) -> Iterator[Callable[..., CoapDevice]]:
    """make(value=b"20.0"): a started aiocoap device (see CoapDevice)."""
    made: list[CoapDevice] = []

    def make(value: bytes = b"20.0") -> CoapDevice:
        device = CoapDevice(coap_loop, value).start()
        made.append(device)
        return device

    yield make
    for device in made:
        device.stop()


@pytest.fixture
def coap_observer(coap_loop: LoopThread) -> Iterator[Callable[..., CoapObserver]]:
    """make(url): an unstarted aiocoap observer, cancelled at teardown."""
    made: list[CoapObserver] = []

    def make(url: str) -> CoapObserver:
        observer = CoapObserver(coap_loop, url)
        made.append(observer)
        return observer

    yield make
    for observer in made:
        observer.stop()
