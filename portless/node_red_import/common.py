"""The common group: inject, debug, comment, catch, status, complete and the links."""

from __future__ import annotations

from typing import Any

from .source import Mapped, NotConvertible, Source, whole
from .values import number_of, typed

INJECT_KINDS = ("string", "number", "boolean", "json", "timestamp", "flow", "global", "env",
                "jsonata")


def inject(node: Source) -> Mapped:
    config: dict[str, Any] = {"properties": [_inject_property(node, prop, index)
                                             for index, prop in enumerate(_props(node))]}
    if node.flag("once"):
        config["once"] = True
        config["once_delay"] = whole(node.number("onceDelay", 0.1))
    repeat, crontab = node.text("repeat"), node.text("crontab").strip()
    if repeat:
        config.update(repeat="interval", interval=number_of(repeat, "repeat"))
    elif crontab:
        config.update(repeat="cron", cron=crontab)
    return Mapped("inject", config)


def _props(node: Source) -> list[dict[str, Any]]:
    """The properties as Node-RED's inject reads them: ``props``, with the old
    ``payload``/``topic`` fields filling what it leaves out (or standing alone)."""
    props = node.items("props")
    if not props and "props" not in node.raw:
        props = [{"p": "payload"}, {"p": "topic", "vt": "str"}]
    filled = []
    for prop in props:
        if not isinstance(prop, dict):
            raise NotConvertible("props: an entry is not an object")
        prop = dict(prop)
        if prop.get("p") == "payload" and "v" not in prop:
            prop.update(v=node.raw.get("payload", ""), vt=node.raw.get("payloadType") or "str")
        elif prop.get("p") == "topic" and prop.get("vt") == "str" and "v" not in prop:
            prop["v"] = node.raw.get("topic", "")
        filled.append(prop)
    return filled


def _inject_property(node: Source, prop: dict[str, Any], index: int) -> dict[str, Any]:
    where = f"props/{index}"
    name = prop.get("p")
    if not isinstance(name, str) or not name:
        raise NotConvertible(f"{where}: a property without a name")
    value_type = prop.get("vt") or "str"
    value = typed(node, prop.get("v", ""), value_type, INJECT_KINDS, where)
    return {"property": name.removeprefix("msg."), "value": value}


def debug(node: Source) -> Mapped:
    config: dict[str, Any] = {}
    shown = node.text("complete", "payload") or "payload"
    if node.text("targetType") == "jsonata":
        node.note("the JSONata expression it showed is not evaluated; the whole message "
                  "is shown")
        config["whole_message"] = True
    elif shown == "true":
        config["whole_message"] = True
    elif shown != "false":
        config["property"] = shown.removeprefix("msg.")
    if not node.flag("active", True):
        config["active"] = False
    if node.flag("tostatus"):
        node.note("its value is not shown as the node's status; portless's debug shows it "
                  "in the log and the editor's sidebar")
    if node.flag("console"):
        node.note("it shows in the log anyway (Node-RED: only with 'system console')")
    return Mapped("debug", config)


def comment(node: Source) -> Mapped:
    info = node.text("info")
    return Mapped("comment", {"text": info} if info else {})


def _scope(node: Source, kind: str) -> dict[str, Any]:
    """catch, status and complete: Node-RED's ``scope`` (null: the tab; a list of node
    ids; "group": the node's group) as portless's scope and nodes."""
    scope = node.raw.get("scope")
    if isinstance(scope, list) and scope:
        return {"scope": "nodes", "nodes": [node.ids(str(each)) for each in scope]}
    if scope == "group":
        node.note(f"{kind} of its group: groups are flattened, so it watches its whole tab")
    return {}


def catch(node: Source) -> Mapped:
    config = _scope(node, "catches the errors")
    if node.flag("uncaught"):
        config["uncaught"] = True
    return Mapped("catch", config)


def status(node: Source) -> Mapped:
    return Mapped("status", _scope(node, "reports the status"))


def complete(node: Source) -> Mapped:
    config = _scope(node, "reports completion")
    if not config:  # Node-RED's complete node watches only the nodes it names
        node.note("it names no node, so it hears of none, as in Node-RED: written "
                  "disabled (a portless complete without nodes would watch its tab)")
        return Mapped("complete", {}, disabled=True)
    return Mapped("complete", config)


def link_in(node: Source) -> Mapped:
    return Mapped("link-in", {})


def link_out(node: Source) -> Mapped:
    if node.text("mode", "link") == "return":
        return Mapped("link-out", {"mode": "return"})
    return Mapped("link-out", {"links": [node.ids(str(each)) for each in node.items("links")]})


def link_call(node: Source) -> Mapped:
    config: dict[str, Any] = {}
    if node.text("linkType", "static") == "dynamic":  # the link-in msg.target names
        config["link_type"] = "dynamic"
    else:
        links = node.items("links") if not isinstance(node.raw.get("links"), str) \
            else [node.raw["links"]]
        if len(links) != 1:
            raise NotConvertible("it names no link-in to call")
        config["links"] = [node.ids(str(links[0]))]
    timeout = node.number("timeout", 30)
    if timeout <= 0:
        raise NotConvertible("timeout: must be more than 0")
    if timeout != 30:
        config["timeout"] = whole(timeout)
    return Mapped("link-call", config)


TABLE = {"inject": inject, "debug": debug, "comment": comment, "catch": catch,
         "status": status, "complete": complete, "link in": link_in, "link out": link_out,
         "link call": link_call}
