"""One OPC UA endpoint: connect (with security), subscribe or poll, write, and reconnect with backoff."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asyncua import Client, Node, ua
from asyncua.crypto import security_policies, uacrypto

from .config import Backoff, Endpoint, Point
from .values import WriteError, bad_message, command_value, from_json, timestamp, to_json, value_message

log = logging.getLogger("wharf_opcua")
Publish = Callable[[str, dict[str, Any], bool], Awaitable[None]]


def backoff_delay(attempt: int, backoff: Backoff, rand: Callable[[], float] = random.random) -> float:
    """Full jitter: a random time in [0, min(cap, base * 2^attempt)]."""
    return rand() * min(backoff.cap, backoff.base * 2 ** min(attempt, 62))


def describe(error: BaseException) -> str:
    """A short reason for a status message."""
    if isinstance(error, ua.UaStatusCodeError):
        return str(ua.StatusCode(error.code).name)
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:200]


class EndpointRunner:
    """Keeps one endpoint connected and its points published; `write` serves command topics."""

    def __init__(self, endpoint: Endpoint, backoff: Backoff, publish: Publish, on_state: Callable[[], None]) -> None:
        self.endpoint, self.backoff, self.publish, self.on_state = endpoint, backoff, publish, on_state
        self.state, self.reason = "starting", ""  # then online or offline, once the first attempt ended
        self.mode = endpoint.mode
        self.client: Client | None = None
        self._nodes: dict[str, Node] = {}  # point name -> node of the live session
        self._by_nodeid: dict[ua.NodeId, Point] = {}
        self._types: dict[str, ua.VariantType] = {}
        self._lost = asyncio.Event()
        self._bad_sent: set[str] = set()  # points whose bad reading was published since the last good one
        self._status_sent: tuple[str, str] | None = None
        self._logged_reason = ""

    # --- the reconnect loop ------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, serve until the connection is lost, wait a backoff delay, again; until cancelled."""
        attempt = 0
        while True:
            started = time.monotonic()
            online = False
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # every failure ends the session the same way
                reason = await self._explain(error)
                online = self.state == "online"
                # Said once per reason: a server that stays away must not fill the log.
                level = logging.WARNING if reason != self._logged_reason else logging.DEBUG
                self._logged_reason = reason
                log.log(
                    level, "endpoint %s: %s", self.endpoint.name, reason, extra={"fields": {"url": self.endpoint.url}}
                )
                await self._went_offline(reason)
            finally:
                await self._close()
            if online and time.monotonic() - started >= self.backoff.stable_after:
                attempt = 0
            delay = backoff_delay(attempt, self.backoff)
            attempt += 1
            await asyncio.sleep(delay)

    async def _explain(self, error: BaseException) -> str:
        """Why the session failed, in an operator's words where asyncua's are obscure."""
        security = self.endpoint.security
        reason = describe(error)
        if reason.startswith("No matching endpoints"):
            mode = "None" if security.policy == "None" else f"{security.policy} {security.mode}"
            return f"the server offers no endpoint with security {mode}"
        if security.policy != "None" and not isinstance(error, ua.UaStatusCodeError):
            # A server whose certificate is not the pinned one cannot decrypt what the client sends
            # and just drops it: tell that apart from an unreachable server.
            presented = await self._presented_certificate()
            if presented is not None:
                try:
                    pinned = uacrypto.der_from_x509(await uacrypto.load_certificate(security.server_certificate))
                except Exception as load_error:
                    return f"server_certificate {security.server_certificate}: {describe(load_error)}"
                if presented != pinned:
                    return (
                        f"the server presents a certificate other than server_certificate "
                        f"(SHA-1 {hashlib.sha1(presented).hexdigest()}); {reason}"
                    )
        return reason

    async def _presented_certificate(self) -> bytes | None:
        """The certificate the server shows in its endpoint list for our policy and mode; None if unknown."""
        security = self.endpoint.security
        try:
            probe = Client(self.endpoint.url, timeout=self.endpoint.timeout)
            endpoints = await asyncio.wait_for(probe.connect_and_get_server_endpoints(), self.endpoint.timeout * 2)
        except Exception:
            return None
        for candidate in endpoints:
            if (
                candidate.SecurityPolicyUri.endswith("#" + security.policy)
                and candidate.SecurityMode.name == security.mode
                and candidate.ServerCertificate
            ):
                return uacrypto.der_from_x509(uacrypto.x509_from_der(candidate.ServerCertificate))
        return None

    async def _session(self) -> None:
        ep = self.endpoint
        client = self.client = Client(ep.url, timeout=ep.timeout, watchdog_intervall=min(1.0, ep.timeout))
        client.application_uri = ep.application_uri
        client.name = client.description = "Wharf OPC UA plugin"
        if ep.username:
            client.set_user(ep.username)
            client.set_password(ep.password)
        if ep.security.policy != "None":
            # The server's certificate is given, never taken from the server's endpoint list: that
            # list comes over an unsecured channel, and trusting it would let anyone in between
            # present a certificate of their own.
            await client.set_security(
                security_policies.SecurityPolicyBasic256Sha256,
                ep.security.certificate,
                ep.security.private_key,
                ep.security.private_key_password or None,
                ep.security.server_certificate,
                getattr(ua.MessageSecurityMode, ep.security.mode),
            )
        self._lost = asyncio.Event()

        async def lost(error: Exception) -> None:
            self._lost.set()

        client.connection_lost_callback = lost
        await asyncio.wait_for(client.connect(), ep.timeout * 2)
        self._nodes = {p.name: client.get_node(p.node) for p in ep.points}
        self._by_nodeid = {self._nodes[p.name].nodeid: p for p in ep.points}
        for point in ep.points:
            if point.writable:
                try:
                    self._types[point.name] = (await self._nodes[point.name].read_data_value()).Value.VariantType
                except ua.UaStatusCodeError as error:
                    log.warning("endpoint %s: node %s: %s", ep.name, point.node, describe(error))
        mode = ep.mode
        if mode == "subscribe":
            try:
                await self._subscribe(client)
            except ua.UaStatusCodeError as error:
                log.warning("endpoint %s: subscriptions refused (%s); polling instead", ep.name, describe(error))
                mode = "poll"
        self.mode = mode
        await self._went_online()
        if mode == "poll":
            await self._poll(client)
        else:
            await self._lost.wait()
        raise ConnectionError("connection lost")

    async def _subscribe(self, client: Client) -> None:
        ep = self.endpoint
        subscription = await client.create_subscription(ep.publishing_interval * 1000, self)
        points = list(self.endpoint.points)
        handles = await subscription.subscribe_data_change(
            [self._nodes[p.name] for p in points], sampling_interval=ep.sampling_interval * 1000
        )
        for point, handle in zip(points, handles, strict=True):
            if isinstance(handle, ua.StatusCode):
                await self._publish_bad(point, handle.name)

    async def _poll(self, client: Client) -> None:
        points = self.endpoint.points
        nodes = [self._nodes[p.name] for p in points]
        next_due = time.monotonic()
        while not self._lost.is_set():
            values = await asyncio.wait_for(client.read_attributes(nodes), self.endpoint.timeout)
            for point, data in zip(points, values, strict=True):
                await self._publish_value(point, data)
            next_due += self.endpoint.poll_interval
            now = time.monotonic()
            if next_due < now:  # overran: skip the missed slots instead of bursting
                next_due = now + self.endpoint.poll_interval
            try:
                await asyncio.wait_for(self._lost.wait(), next_due - now)
            except TimeoutError:
                pass

    async def _close(self) -> None:
        client, self.client = self.client, None
        self._nodes, self._by_nodeid = {}, {}
        if client is not None:
            try:
                await asyncio.wait_for(client.disconnect(), 2)
            except Exception:  # the connection is gone already: nothing to tidy up
                log.debug("endpoint %s: disconnect failed", self.endpoint.name, exc_info=True)

    # --- subscription callbacks (asyncua's handler protocol) ---------------------------------
    async def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        """A monitored item changed."""
        point = self._by_nodeid.get(node.nodeid)
        if point is not None:
            await self._publish_value(point, data.monitored_item.Value)

    async def status_change_notification(self, status: Any) -> None:
        """The subscription's status changed (the server shut down, a timeout...)."""
        code = getattr(status, "Status", None)
        if code is not None and not ua.StatusCode(code.value if hasattr(code, "value") else code).is_good():
            self._lost.set()

    # --- publishing ---------------------------------------------------------------------------
    async def _publish_value(self, point: Point, data: ua.DataValue) -> None:
        message = value_message(data, point.unit)
        if message["quality"] == "bad" and message.get("error"):
            if point.name in self._bad_sent:
                return
            self._bad_sent.add(point.name)
        else:
            self._bad_sent.discard(point.name)
        await self.publish(point.topic, message, False)

    async def _publish_bad(self, point: Point, error: str) -> None:
        if point.name not in self._bad_sent:
            self._bad_sent.add(point.name)
            await self.publish(point.topic, bad_message(error, point.unit), False)

    async def _went_online(self) -> None:
        self.state, self.reason = "online", ""
        self.on_state()
        log.info("endpoint %s: online (%s)", self.endpoint.name, self.mode)
        await self._status({"state": "online", "mode": "subscription" if self.mode == "subscribe" else "polling"})

    async def _went_offline(self, reason: str) -> None:
        was_online = self.state == "online"
        self.state, self.reason = "offline", reason
        self.on_state()
        if was_online:
            for point in self.endpoint.points:
                await self._publish_bad(point, reason)
        await self._status({"state": "offline", "reason": reason})

    async def _status(self, body: dict[str, Any]) -> None:
        key = (body["state"], str(body.get("reason", "")))
        if key != self._status_sent:  # a repeated failure with the same reason is not news
            self._status_sent = key
            await self.publish(self.endpoint.status_topic, {**body, "timestamp": timestamp()}, True)

    # --- writes -------------------------------------------------------------------------------
    async def write(self, point: Point, payload: bytes) -> dict[str, Any]:
        """Write a command's value to the point's variable; the result message."""
        try:
            if not point.writable:
                raise WriteError(f"point '{point.name}' is not writable")
            node, vtype = self._nodes.get(point.name), self._types.get(point.name)
            if node is None or self.state != "online":
                raise WriteError(f"endpoint '{self.endpoint.name}' is offline")
            if vtype is None:
                raise WriteError(f"the type of '{point.name}' is unknown (the node could not be read)")
            value = from_json(command_value(payload), vtype, point.minimum, point.maximum)
            await asyncio.wait_for(node.write_value(ua.DataValue(ua.Variant(value, vtype))), self.endpoint.timeout)
        except WriteError as error:
            return {"ok": False, "error": str(error), "timestamp": timestamp()}
        except Exception as error:  # the server refused or the connection failed: report, never raise
            return {"ok": False, "error": describe(error), "timestamp": timestamp()}
        return {"ok": True, "value": to_json(value), "timestamp": timestamp()}
