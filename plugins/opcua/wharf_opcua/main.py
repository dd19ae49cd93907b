"""The plugin: configuration from `init`, one runner per endpoint, values published in order, writes."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from typing import Any

from wharf_plugin import Message, Nack, Plugin, Stopped

from . import __version__
from .config import Config, ConfigError, Point, parse_config

log = logging.getLogger("wharf_opcua")
SETUP_COMMAND = "/usr/lib/wharf/plugins/wharf-opcua-setup"


def missing_asyncua(adapter: str = "NAME") -> str:
    """What to do when asyncua is missing."""
    return (
        f"the Python package asyncua is missing for {sys.executable}: run {SETUP_COMMAND} as root, "
        f"then wharfctl plugin restart {adapter} (docs/opcua.md, Installing)"
    )


class OpcUaPlugin:
    """The plugin's state: its configuration, its endpoint runners and its publish queue."""

    def __init__(self, plugin: Plugin) -> None:
        self.plugin = plugin
        self.config: Config | None = None
        self.runners: list[Any] = []
        self.commands: dict[str, tuple[Any, Point]] = {}  # command topic -> (runner, point)
        self.queue: asyncio.Queue[tuple[str, dict[str, Any], bool]] | None = None
        self.dropped = 0
        self.refused: set[tuple[str, str]] = set()  # (topic, reason) of nacks logged already

    def configure(self, plugin: Plugin) -> None:
        """on_init: check the configuration and subscribe to the command topics of writable points."""
        if importlib.util.find_spec("asyncua") is None:
            raise RuntimeError(missing_asyncua(plugin.instance))
        from .endpoint import EndpointRunner

        try:
            self.config = parse_config(plugin.config, plugin.instance)
        except ConfigError as error:
            for problem in error.problems:
                log.error("config.%s", problem)
            raise
        self.runners = [
            EndpointRunner(e, self.config.backoff, self.enqueue, self.update_health) for e in self.config.endpoints
        ]
        for runner in self.runners:
            for point in runner.endpoint.points:
                if point.writable:
                    self.commands[point.command_topic] = (runner, point)
        plugin.subscriptions = [(topic, 1) for topic in self.commands]

    async def enqueue(self, topic: str, message: dict[str, Any], retain: bool) -> None:
        """Queue a message for publishing; values beyond max_queued_values are dropped (status never is)."""
        assert self.queue is not None
        if retain:
            await self.queue.put((topic, message, retain))
            return
        try:
            self.queue.put_nowait((topic, message, retain))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("the broker is behind: %d values dropped so far", self.dropped)

    async def publisher(self) -> None:
        """Publish queued messages in order, pipelined within the plugin's credit."""
        assert self.queue is not None and self.config is not None
        while True:
            topic, message, retain = await self.queue.get()
            qos = 1 if retain else self.config.qos
            try:
                future = await self.plugin.asubmit(topic, message, qos=qos, retain=retain or self.config.retain)
            except Stopped:
                return
            future.add_done_callback(lambda done, topic=topic: self._log_nack(topic, done))

    def _log_nack(self, topic: str, future: Any) -> None:
        """Log a refused publish once per topic and reason: an ACL that refuses a value refuses every one."""
        error = future.exception()
        if isinstance(error, Nack) and (topic, error.reason) not in self.refused:
            self.refused.add((topic, error.reason))
            log.warning("publishes to %s are refused: %s", topic, error)

    def update_health(self) -> None:
        """Health: healthy while every endpoint is online, degraded otherwise.

        Nothing is said before every endpoint's first attempt ended: a start is not an outage.
        """
        if any(r.state == "starting" for r in self.runners):
            return
        offline = [f"{r.endpoint.name}: {r.reason}" for r in self.runners if r.state != "online"]
        if offline:
            self.plugin.set_health("degraded", "offline: " + "; ".join(offline))
        else:
            self.plugin.set_health("healthy", f"{len(self.runners)} endpoint(s) online")

    async def command(self, msg: Message) -> None:
        """A write from a command topic; the result goes to the result topic and the response topic."""
        target = self.commands.get(msg.topic)
        if target is None:
            return
        runner, point = target
        if msg.retain:
            # Delivered from the broker's retained store when the plugin subscribed: old state,
            # not a request. Writing it would repeat the last write at every start of the plugin.
            log.warning("ignored a retained command on %s: clear it (publish an empty retained message)", msg.topic)
            return
        result = await runner.write(point, msg.payload)
        log.info("write %s/%s: %s", runner.endpoint.name, point.name, "ok" if result["ok"] else result["error"])
        (await self.plugin.asubmit(point.result_topic, result, qos=1)).add_done_callback(_log_nack)
        await self.plugin.areply(msg, result, qos=1)

    async def run(self, plugin: Plugin) -> None:
        """run_async's main: the publisher and one task per endpoint, until shutdown cancels them."""
        assert self.config is not None
        self.queue = asyncio.Queue(self.config.max_queued_values)
        tasks = [asyncio.create_task(self.publisher())]
        tasks += [asyncio.create_task(runner.run(), name=runner.endpoint.name) for runner in self.runners]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _log_nack(future: Any) -> None:
    if isinstance(future.exception(), Nack):
        log.warning("publish refused: %s", future.exception())


def main() -> None:
    """Entry point of wharf-opcua: the plugin, or with arguments one of its tools."""
    if len(sys.argv) > 1 and sys.argv[1] in ("make-certificate", "fetch-certificate", "--help", "-h"):
        from .tools import run_tool

        sys.exit(run_tool(sys.argv[1:]))
    if importlib.util.find_spec("asyncua") is None:
        # Said on stderr too (Wharf's log), before the handshake: the plugin then reports health
        # failed with the same words instead of exiting into a crash loop.
        print(f"wharf-opcua: {missing_asyncua()}", file=sys.stderr, flush=True)
    plugin = Plugin(name="wharf-opcua", version=__version__)
    state = OpcUaPlugin(plugin)
    plugin.on_init(state.configure)
    plugin.on_command(state.command)
    # asyncua warns about every step of a failed connection; the endpoint runner says once why.
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    # Its publish loop logs a traceback for every lost connection, which the runner reports.
    logging.getLogger("asyncua.client.ua_session").setLevel(logging.CRITICAL)
    plugin.run_async(state.run)
