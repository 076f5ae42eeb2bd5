"""The network group: mqtt in, mqtt out and their mqtt-broker (with its tls-config), and
http request (with its tls-config and http proxy).

A login and a tls-config's uploaded keys are credentials: an export leaves them out
unless asked, and even then they are never copied; the converted node gets ``${ENV}``
placeholders instead, named in the report."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .source import Mapped, NotConvertible, Source

_FORMATS_IN = {"auto-detect": "auto", "auto": "text", "utf8": "text", "buffer": "raw",
               "json": "json"}
_PROTOCOLS = {"3": "3.1.1", "4": "3.1.1", "5": "5"}


def env_prefix(node: Source, kind: str = "MQTT") -> str:
    """The stem of a node's ${ENV} names: MQTT_ (or HTTP_) and its id in capitals."""
    node_id = node.ids(str(node.raw["id"]))
    return f"{kind}_" + (re.sub(r"[^A-Za-z0-9]+", "_", node_id).strip("_").upper() or "NODE")


def mqtt_in(node: Source) -> Mapped:
    if node.text("topicType") == "dynamic" or int(node.number("inputs", 0)) > 0:
        raise NotConvertible("dynamic subscriptions (an input that subscribes) are not "
                             "offered; subscribe to a fixed topic filter")
    datatype = node.text("datatype", "auto-detect") or "auto-detect"
    if datatype == "base64":
        raise NotConvertible("datatype: a base64 text payload is not offered (raw gives "
                             "the bytes)")
    if datatype not in _FORMATS_IN:
        raise NotConvertible(f"datatype: unknown output {datatype!r}")
    config: dict[str, Any] = {"broker": node.ids(node.text("broker")),
                              "topic": node.text("topic"),
                              "qos": _qos(node, 2), "format": _FORMATS_IN[datatype]}
    if node.flag("nl") or not node.flag("rap", True) or node.number("rh", 0):
        node.note("the MQTT 5 options no-local, retain-as-published and retain handling "
                  "are not set: the broker's defaults apply")
    return Mapped("mqtt-in", config)


def mqtt_out(node: Source) -> Mapped:
    config: dict[str, Any] = {"broker": node.ids(node.text("broker")), "format": "text",
                              "qos": _qos(node, 0)}
    if node.text("topic"):
        config["topic"] = node.text("topic")
    retain = node.text("retain")
    if retain == "true":
        config["retain"] = True
    if node.text("qos") == "" or retain == "":
        node.note("msg.qos and msg.retain are not read: the node's own QoS and retain "
                  "flag (Node-RED's defaults, 0 and false, where it left them to the "
                  "message) are used")
    expiry = node.text("expiry")
    if expiry:
        config["message_expiry"] = int(node.number("expiry", 0))
    if any(node.text(key) for key in ("respTopic", "correl", "contentType", "userProps")):
        node.note("the MQTT 5 response topic, correlation data, content type and user "
                  "properties are not set (a text payload goes as text/plain)")
    return Mapped("mqtt-out", config)


def _qos(node: Source, default: int) -> int:
    qos = node.text("qos", str(default)) or str(default)
    if qos not in ("0", "1", "2"):
        raise NotConvertible(f"qos: {qos!r} is not 0, 1 or 2")
    return int(qos)


def mqtt_broker(node: Source) -> Mapped:
    host, port, tls = _address(node)
    config: dict[str, Any] = {"host": host}
    if port is not None:
        config["port"] = port
    protocol = node.choice("protocolVersion", _PROTOCOLS, "4", "MQTT version")
    if protocol == "3":
        node.note("MQTT 3.1 becomes 3.1.1, the oldest version portless speaks")
    config["protocol"] = _PROTOCOLS[protocol]
    if node.text("clientid"):
        config["client_id"] = node.text("clientid")
    config["keepalive"] = int(node.number("keepalive", 60))
    config["clean_start"] = node.flag("cleansession", True)
    if protocol == "5" and node.number("sessionExpiry", 0):
        config["session_expiry"] = int(node.number("sessionExpiry", 0))
    if tls or node.flag("usetls"):
        config["tls"] = _tls(node, env_prefix(node))
    _login(node, config)
    _birth_and_will(node, config)
    if not node.flag("autoConnect", True):
        node.note("it connects at start (Node-RED: only when told to)")
    return Mapped("mqtt-broker", config)


def _address(node: Source) -> tuple[str, int | None, bool]:
    """Host, port and TLS from Node-RED's broker field, a host or a URL."""
    broker = node.text("broker").strip()
    port = int(node.number("port", 0)) or None
    tls = False
    if "://" in broker:
        parts = urlsplit(broker)
        if parts.scheme in ("ws", "wss"):
            raise NotConvertible("MQTT over WebSocket is not offered; use the broker's "
                                 "MQTT port")
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "tls", "ssl"):
            raise NotConvertible(f"broker: unknown scheme {parts.scheme!r}")
        tls = parts.scheme in ("mqtts", "tls", "ssl")
        broker = parts.hostname or ""
        port = parts.port or port
    if not broker:
        raise NotConvertible("broker: no host")
    return broker, port, tls


def _tls(node: Source, prefix: str) -> dict[str, Any]:
    """The TLS settings of the tls-config the node names (``tls``)."""
    tls: dict[str, Any] = {}
    settings = node.lookup(node.text("tls")) if node.text("tls") else None
    if settings is None:
        if node.raw.get("verifyservercert") is False:
            node.note("TLS certificates are verified (the Node-RED node did not verify "
                      "them); add the server's CA with tls.ca_file if need be")
        return tls
    given = Source(settings)
    for key, field in (("ca", "ca_file"), ("cert", "cert_file"), ("key", "key_file")):
        if given.text(key):
            tls[field] = given.text(key)
    if given.text("servername"):
        tls["server_name"] = given.text("servername")
    if not given.flag("verifyservercert", True):
        tls["verify"] = False
        node.note("TLS certificates are NOT verified, as its tls-config said: anyone on "
                  "the path can pose as the broker; turn tls.verify on")
    uploaded = [key for key in ("caname", "certname", "keyname") if given.text(key)]
    for key in uploaded:
        field = {"caname": "ca_file", "certname": "cert_file", "keyname": "key_file"}[key]
        tls[field] = "${" + f"{prefix}_{field.upper()}" + "}"
    if uploaded:
        node.note("certificates uploaded into Node-RED are credentials and are not "
                  "copied: tls names files by ${ENV} placeholders instead")
    if given.text("alpnprotocol"):
        node.note("the TLS ALPN protocol is not set")
    if "credentials" in settings:
        node.note("the tls-config's credentials (keys, passphrase) are not copied")
    return tls


def _login(node: Source, config: dict[str, Any]) -> None:
    prefix = env_prefix(node)
    if isinstance(node.raw.get("credentials"), dict):
        config["username"] = "${" + prefix + "_USERNAME}"
        config["password"] = "${" + prefix + "_PASSWORD}"
        node.note(f"its login is read from the environment: set {prefix}_USERNAME and "
                  f"{prefix}_PASSWORD (the credentials in the export are not copied)")
    else:
        node.note(f"Node-RED keeps a broker's login out of its export: if it needs one, "
                  f"set username and password to ${{{prefix}_USERNAME}} and "
                  f"${{{prefix}_PASSWORD}}")


def _birth_and_will(node: Source, config: dict[str, Any]) -> None:
    birth, will = node.text("birthTopic"), node.text("willTopic")
    if not (birth or will or node.text("closeTopic")):
        config["state_topic"] = ""
        return
    config["state_topic"] = birth or will
    if birth:
        config["birth_payload"] = node.text("birthPayload")
    if will:
        config["will_payload"] = node.text("willPayload")
    node.note("birth, will and close messages share one retained state topic in "
              f"portless ({config['state_topic']}); the will payload is also sent on a "
              "clean stop")


_RETURN = {"txt": "text", "bin": "bytes", "obj": "json"}
_AUTH = {"basic": "basic", "digest": "digest", "bearer": "bearer"}


def http_request(node: Source) -> Mapped:
    method = node.text("method", "GET") or "GET"
    ret = node.choice("ret", _RETURN, "txt", "output")
    paytoqs = node.raw.get("paytoqs", "ignore")
    config: dict[str, Any] = {
        "method": "msg.method" if method == "use" else method.upper(),
        "url": node.text("url"), "response_as": _RETURN[ret],
        "get_payload": "query" if paytoqs in (True, "query") else "body"
        if paytoqs == "body" else "ignore",
        "keep_alive": node.flag("persist"), "errors_to_catch_only": node.flag("senderr"),
        "headers": [_header(node, header, index)
                    for index, header in enumerate(node.items("headers"))]}
    prefix = env_prefix(node, "HTTP")
    auth = node.text("authType")
    if auth in _AUTH:
        config["auth_type"] = _AUTH[auth]
        if auth == "bearer":
            config["token"] = "${" + prefix + "_TOKEN}"
            names = f"{prefix}_TOKEN"
        else:
            config.update(username="${" + prefix + "_USERNAME}",
                          password="${" + prefix + "_PASSWORD}")
            names = f"{prefix}_USERNAME and {prefix}_PASSWORD"
        node.note(f"its login is read from the environment: set {names} (Node-RED keeps "
                  f"it in its credentials, never copied)")
    elif auth:
        raise NotConvertible(f"authType: unknown authentication {auth!r}")
    if node.text("tls"):
        config["tls"] = _tls(node, prefix)
    if node.text("proxy"):
        _proxy(node, config, prefix)
    if node.flag("insecureHTTPParser"):
        node.note("the lenient HTTP parser is not offered: an answer that is not valid "
                  "HTTP is refused")
    return Mapped("http-request", config)


def _header(node: Source, header: Any, index: int) -> dict[str, Any]:
    """Node-RED's header row: a name and a value, each typed as text ('other'), a
    message property ('msg'), or one of its editor's standard names or values."""
    if not isinstance(header, dict):
        raise NotConvertible(f"headers/{index}: not an object")
    out: dict[str, Any] = {}
    for kind_key, text_key, field in (("keyType", "keyValue", "name"),
                                      ("valueType", "valueValue", "value")):
        kind, text = str(header.get(kind_key) or "other"), str(header.get(text_key) or "")
        if kind == "msg":
            out.update({field: text.removeprefix("msg."), f"{field}_from": "msg"})
        else:
            out[field] = text if kind == "other" else kind
    return out


def _proxy(node: Source, config: dict[str, Any], prefix: str) -> None:
    proxy = node.lookup(node.text("proxy"))
    if proxy is None:
        raise NotConvertible("its http proxy is not in the export")
    settings = Source(proxy)
    config["proxy"] = settings.text("url")
    config["no_proxy"] = [str(host) for host in settings.items("noproxy")]
    if isinstance(proxy.get("credentials"), dict):
        config.update(proxy_username="${" + prefix + "_PROXY_USERNAME}",
                      proxy_password="${" + prefix + "_PROXY_PASSWORD}")
        node.note(f"its proxy login is read from the environment: set "
                  f"{prefix}_PROXY_USERNAME and {prefix}_PROXY_PASSWORD")


TABLE = {"mqtt in": mqtt_in, "mqtt out": mqtt_out, "mqtt-broker": mqtt_broker,
         "http request": http_request}
