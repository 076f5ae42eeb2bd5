"""opcua-connection: one OPC UA client session per server, shared by opcua-in and
opcua-out.

The node owns the connection loop (connect, build every reader's subscription, wait
for the link to end, backoff with jitter) and the state nodes show. Building the
asyncua client (security, trust, credentials) is in opcua_session.py, failures in
words in opcua_reasons.py; both import asyncua, so they are imported only here, at
start, never when the node type is registered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from portless.nodes.connection_fields import credential_fields, reconnect_fields
from portless.nodes.link_state import (
    CONNECTED,
    CONNECTING,
    LinkState,
    LinkStatus,
    StateListener,
)
from portless.nodes.reconnect import Backoff
from portless.runtime import Node

if TYPE_CHECKING:
    from asyncua.client.client import Client

    from portless.nodes.opcua.opcua_session import Session

log = logging.getLogger("portless.opcua")

ENDPOINT_PATTERN = r"^opc\.tcp://[^\u0000-\u0020\u007f-\u009f/?#@]+(/[^\u0000-\u0020\u007f-\u009f]*)?$"


class Reader(Protocol):
    """What an opcua-in gives the connection: it is attached to every new session (to
    build its subscription or start its poll; a failure is its own to report, not the
    link's) and detached when the session ends."""

    async def attach(self, client: Client) -> None: ...

    def detach(self) -> None: ...


class OpcUaConnection(Node):
    type = "opcua-connection"
    category = "network"
    color = "#c7e9c0"
    icon = "bridge"
    inputs = 0
    outputs = 0
    shared = True
    schema = {
        "title": "OPC UA connection",
        "description": (
            "One outbound OPC UA client session to a server (a PLC), shared by the "
            "opcua-in and opcua-out nodes that name it. Security None, or Basic256Sha256 "
            "Sign / SignAndEncrypt with a client certificate; the server's certificate "
            "must be in the trust list (verified by default). Reconnects with backoff "
            "and then builds a new session and every subscription again, so values "
            "flow after a PLC restart. Status in words: `connected`, `connection "
            "refused`, `server certificate not trusted ...`."),
        "type": "object",
        "additionalProperties": False,
        "required": ["endpoint"],
        "properties": {
            "endpoint": {"title": "Endpoint URL", "type": "string", "maxLength": 2048,
                         "pattern": ENDPOINT_PATTERN, "x-destination": True,
                         "x-error": "must be an OPC UA endpoint URL such as "
                                    "opc.tcp://plc-1.local:4840 (no user name or "
                                    "password in it, no spaces or control characters)",
                         "description": "opc.tcp://host:port/path of the server."},
            "security": {
                "title": "Security", "default": False, "x-destination": True,
                "description": "false for security None (no encryption, no server "
                               "identity: only on a network you trust), or the "
                               "Basic256Sha256 settings.",
                "oneOf": [
                    {"const": False, "title": "false (security None)"},
                    {"type": "object", "title": "the Basic256Sha256 settings",
                     "additionalProperties": False,
                     "required": ["certificate_file", "private_key_file", "trust"],
                     "properties": {
                         "policy": {"title": "Policy", "enum": ["Basic256Sha256"],
                                    "default": "Basic256Sha256",
                                    "description": "Security policy."},
                         "mode": {"title": "Mode", "enum": ["SignAndEncrypt", "Sign"],
                                  "default": "SignAndEncrypt",
                                  "description": "Sign only, or sign and encrypt."},
                         "certificate_file": {
                             "title": "Client certificate", "type": "string",
                             "minLength": 1, "x-path": "read",
                             "description": "This device's application certificate "
                                            "(PEM or DER); its URI is the client's "
                                            "application URI. The server must trust "
                                            "it."},
                         "private_key_file": {
                             "title": "Client private key", "type": "string",
                             "minLength": 1, "x-path": "read",
                             "description": "Its private key (PEM or DER)."},
                         "private_key_password": {
                             "title": "Private key password", "type": "string",
                             "default": "", "writeOnly": True,
                             "description": "Empty if the key is not encrypted; "
                                            "use ${ENV}."},
                         "trust": {
                             "title": "Trusted server certificates", "type": "string",
                             "minLength": 1, "x-path": "read",
                             "description": "A certificate file (PEM, may hold several, "
                                            "or DER) or a directory of them: the "
                                            "server's own certificate, or the CA that "
                                            "issued it. Any other is refused."},
                         "verify": {
                             "title": "Verify server certificate", "type": "boolean",
                             "default": True,
                             "description": "Turning this off is for tests only; it "
                                            "logs a loud warning."},
                     }},
                ],
            },
            **credential_fields("Empty: anonymous.", max_length=1024),
            "session_timeout": {"title": "Session timeout (s)", "type": "number",
                                "minimum": 1, "maximum": 86400, "default": 60,
                                "description": "How long the server keeps the session "
                                               "(and its subscriptions) when the link "
                                               "is silent."},
            "request_timeout": {"title": "Request timeout (s)", "type": "number",
                                "exclusiveMinimum": 0, "maximum": 600, "default": 5,
                                "description": "Longest wait for the answer to one "
                                               "request (a read, a write)."},
            "keepalive": {"title": "Keepalive (s)", "type": "number", "minimum": 0.1,
                          "maximum": 3600, "default": 5,
                          "description": "How often the server's state is read when "
                                         "nothing else tells that the link is alive; a "
                                         "read that fails ends the link."},
            "connect_timeout": {"title": "Connect timeout (s)", "type": "number",
                                "exclusiveMinimum": 0, "maximum": 600, "default": 10,
                                "description": "Give up a connection attempt after "
                                               "this."},
            **reconnect_fields(maximum=3600),
        },
    }

    async def start(self) -> None:
        from portless.nodes.opcua.opcua_session import SessionFactory  # asyncua: lazily

        self._factory = await SessionFactory.load(self.config, self)
        self.link = LinkStatus(self, self.config["endpoint"], log)
        self._readers: list[Reader] = []
        self._session: Session | None = None
        self._connected = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self.spawn(self._run(), "connection")

    async def stop(self) -> None:
        await self._release()  # stop the connection loop before closing its session
        session, self._session = self._session, None
        if session is not None:
            await session.close(alive=True)

    # --- what opcua-in and opcua-out call -----------------------------------------------
    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener`` with every change of the link state (and now, once)."""
        return self.link.add_listener(listener)

    def add_reader(self, reader: Reader) -> None:
        """Attach ``reader`` to the current session (if any) and to every later one."""
        self._readers.append(reader)
        if self._session is not None:
            self.spawn(reader.attach(self._session.client), "attach")

    def remove_reader(self, reader: Reader) -> None:
        """Attach ``reader`` to no later session (it releases its current one itself)."""
        if reader in self._readers:
            self._readers.remove(reader)

    async def session(self, timeout: float) -> Session:
        """The connected session, waiting up to ``timeout`` s for one; else
        ConnectionError saying what the link is doing."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            raise ConnectionError(f"not connected to {self.config['endpoint']}: "
                                  f"{self.state.text}") from None
        assert self._session is not None  # set together with _connected
        return self._session

    @property
    def write_lock(self) -> asyncio.Lock:
        """Held for each write: one at a time on this connection, in order."""
        return self._write_lock

    @property
    def state(self) -> LinkState:
        """What the link is doing now."""
        return self.link.state

    # --- the connection loop ------------------------------------------------------------
    async def _run(self) -> None:
        from portless.nodes.opcua.opcua_reasons import describe_ending, describe_failure

        config = self.config
        loop = asyncio.get_running_loop()
        backoff = Backoff(config["reconnect_min_delay"], config["reconnect_max_delay"])
        while True:
            self.link.set(CONNECTING)
            session = self._factory.new()
            try:
                async with asyncio.timeout(config["connect_timeout"]):
                    await session.open()
            except Exception as exc:  # any failure to connect means: wait, then retry
                await session.close(alive=False)
                self.link.set(LinkState("red", describe_failure(exc, config)))
            else:
                up_since = loop.time()
                await self._serve(session)
                self.link.set(LinkState("red", describe_ending(session.ending)))
                backoff.link_lasted(loop.time() - up_since)  # a good link: retry soon
            await backoff.wait()

    async def _serve(self, session: Session) -> None:
        """Serve one session until the link ends: every reader attached, then wait."""
        self._session = session
        log.info("node %s: connected to %s", self.id, self.config["endpoint"])
        try:
            self.link.set(CONNECTED)
            self._connected.set()
            for reader in tuple(self._readers):
                self.spawn(reader.attach(session.client), "attach")
            await session.lost.wait()
        finally:
            self._connected.clear()
            self._session = None
            for reader in tuple(self._readers):
                reader.detach()
            await session.close(alive=False)
