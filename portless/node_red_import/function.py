"""The function group: function (kept, disabled: its code is JavaScript), change, switch,
range, template, delay, trigger and rbe (portless's exception-filter)."""

from __future__ import annotations

from typing import Any

from .source import Mapped, NotConvertible, Source, whole
from .values import KINDS, number_of, seconds, typed

VALUE_KINDS = ("string", "number", "boolean", "json", "timestamp", "msg", "flow", "global",
               "env", "jsonata")
PLACES = ("msg", "flow", "global")
JAVASCRIPT = ("its code is JavaScript and portless's function node runs Python: kept "
              "disabled with the JavaScript as comments in its code; rewrite it in "
              "Python, then enable it")


def function(node: Source) -> Mapped:
    config: dict[str, Any] = {"code": _commented(node.text("func"), "return msg")}
    modules = [f"// module {lib.get('module')} as {lib.get('var')}"
               for lib in node.items("libs") if isinstance(lib, dict)]
    setup = "\n".join([*modules, node.text("initialize")]).strip()
    if setup:
        config["setup"] = _commented(setup, "")
    if node.text("finalize").strip():
        config["close"] = _commented(node.text("finalize"), "")
    outputs = int(node.number("outputs", 1))
    if outputs != 1:
        config["outputs"] = outputs
    return Mapped("function", config, kept_disabled=JAVASCRIPT)


def _commented(javascript: str, body: str) -> str:
    lines = [f"# {line}".rstrip() for line in javascript.replace("\r\n", "\n").split("\n")]
    header = "# JavaScript from Node-RED, to rewrite in Python:"
    return "\n".join([header, *lines, body]).rstrip("\n") if body else "\n".join([header, *lines])


def change(node: Source) -> Mapped:
    rules = node.items("rules") if "rules" in node.raw else [_legacy_rule(node)]
    return Mapped("change", {"rules": [_change_rule(node, rule, index)
                                       for index, rule in enumerate(rules)]})


def _legacy_rule(node: Source) -> dict[str, Any]:
    """A change node from before rules: one action on one property."""
    action = node.text("action", "set")
    rule: dict[str, Any] = {"t": "set" if action == "replace" else action,
                            "p": node.text("property")}
    if rule["t"] in ("set", "move"):
        rule["to"] = node.text("to")
    elif rule["t"] == "change":
        rule.update({"from": node.text("from"), "to": node.text("to")})
        if node.raw.get("reg") is None or node.flag("reg"):
            rule["fromt"] = "re"
    return rule


def _change_rule(node: Source, rule: Any, index: int) -> dict[str, Any]:
    where = f"rules/{index}"
    if not isinstance(rule, dict):
        raise NotConvertible(f"{where}: not an object")
    action = rule.get("t")
    if action not in ("set", "change", "delete", "move"):
        raise NotConvertible(f"{where}: unknown action {action!r}")
    place = rule.get("pt") or "msg"
    out: dict[str, Any] = {"action": action, "property": typed(
        node, _path(rule.get("p")), place, PLACES, f"{where}/p")}
    to, to_type = rule.get("to", ""), rule.get("tot")
    if action == "set":
        if not to_type and isinstance(to, str) and to.startswith("msg."):
            to, to_type = to[4:], "msg"
        out["value"] = typed(node, to, to_type or "str", VALUE_KINDS, f"{where}/to")
        if rule.get("dc") is True:
            out["deep_copy"] = True
    elif action == "change":
        search_type = rule.get("fromt") or "str"
        if search_type == "re":
            out["regex"] = True
            search_type = "str"
            node.note(f"{where}: the regular expression is read as Python's")
        out["search"] = typed(node, rule.get("from", ""), search_type,
                              ("string", "number", "boolean", "msg", "flow", "global", "env"),
                              f"{where}/from")
        out["replace"] = typed(node, to, to_type or "str", VALUE_KINDS, f"{where}/to")
    elif action == "move":
        out["to"] = typed(node, _path(to), to_type or "msg", PLACES, f"{where}/to")
    return out


def _path(value: Any) -> str:
    return value.removeprefix("msg.") if isinstance(value, str) else ""


OPERATORS = {"eq": "==", "neq": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=",
              "btwn": "between", "cont": "contains", "regex": "regex", "hask": "has-key",
              "true": "true", "false": "false", "null": "null", "nnull": "not-null",
              "istype": "is-type", "empty": "is-empty", "nempty": "not-empty",
              "head": "head", "tail": "tail", "index": "index", "jsonata_exp": "jsonata",
              "else": "otherwise"}
"""Node-RED's switch rule types and portless's operators."""
_RULE_KINDS = ("string", "number", "boolean", "msg", "flow", "global", "env", "jsonata",
               "previous")
_WITH_VALUE = {"==", "!=", "<", "<=", ">", ">=", "between", "contains", "regex", "has-key",
               "head", "tail", "index"}


def switch(node: Source) -> Mapped:
    config: dict[str, Any] = {
        "property": typed(node, node.text("property", "payload"),
                          node.text("propertyType", "msg") or "msg",
                          ("msg", "flow", "global", "env", "jsonata"), "property"),
        "rules": [_switch_rule(node, rule, index)
                  for index, rule in enumerate(node.items("rules"))]}
    if config["property"]["kind"] == "msg":
        config["property"]["value"] = _path(config["property"]["value"])
    if node.text("checkall", "true") == "false":
        config["check_all"] = False
    if node.flag("repair"):
        config["recreate_sequences"] = True
    return Mapped("switch", config)


def _switch_rule(node: Source, rule: Any, index: int) -> dict[str, Any]:
    where = f"rules/{index}"
    if not isinstance(rule, dict) or rule.get("t") not in OPERATORS:
        shown = rule.get("t") if isinstance(rule, dict) else rule
        raise NotConvertible(f"{where}: unknown rule {shown!r}")
    operator = OPERATORS[rule["t"]]
    out: dict[str, Any] = {"operator": operator}
    if operator in _WITH_VALUE:
        out["value"] = _rule_value(node, rule.get("v", ""), rule.get("vt"), f"{where}/v")
    if operator in ("between", "index"):
        out["value2"] = _rule_value(node, rule.get("v2", ""), rule.get("v2t"), f"{where}/v2")
    if operator == "is-type":
        out["type"] = rule.get("v") or "string"
    elif operator == "jsonata":
        out["expression"] = rule.get("v") or ""
    if operator == "regex":
        node.note(f"{where}: the regular expression is read as Python's")
    if rule.get("case") is True:
        out["ignore_case"] = True
    return out


def _rule_value(node: Source, value: Any, value_type: Any, where: str) -> dict[str, Any]:
    kind = value_type if isinstance(value_type, str) and value_type in KINDS else "str"
    typed_value = typed(node, value, kind, _RULE_KINDS, where)
    if typed_value["kind"] == "msg":
        typed_value["value"] = _path(typed_value["value"])
    return typed_value


_RANGE_ACTIONS = {"scale": "scale", "clamp": "clamp", "roll": "wrap", "drop": "drop"}


def range_(node: Source) -> Mapped:
    action = node.choice("action", _RANGE_ACTIONS, "scale", "action")
    config: dict[str, Any] = {
        "action": _RANGE_ACTIONS[action], "property": _path(node.text("property", "payload")),
        "from_min": number_of(node.raw.get("minin", 0), "minin"),
        "from_max": number_of(node.raw.get("maxin", 100), "maxin"),
        "to_min": number_of(node.raw.get("minout", 0), "minout"),
        "to_max": number_of(node.raw.get("maxout", 100), "maxout")}
    if node.flag("round"):
        config["round"] = True
    return Mapped("range", config)


def delay(node: Source) -> Mapped:
    pause = node.text("pauseType", "delay")
    config: dict[str, Any]
    if pause in ("delay", "delayv"):
        config = {"mode": "delay",
                  "delay": seconds(node, "timeout", "timeoutUnits", 5, "seconds")}
        if pause == "delayv":
            config["msg_delay"] = True
    elif pause == "random":
        config = {"mode": "random",
                  "random_from": seconds(node, "randomFirst", "randomUnits", 1, "seconds"),
                  "random_to": seconds(node, "randomLast", "randomUnits", 5, "seconds")}
    elif pause in ("rate", "queue", "timed"):
        config = _rate(node, pause)
    elif pause == "burst":
        raise NotConvertible("'allow N messages per interval in a burst' is not provided "
                             "by portless's delay")
    else:
        raise NotConvertible(f"pauseType: unknown mode {pause!r}")
    if int(node.number("outputs", 1)) == 2 and config.get("limited") != "second-output":
        node.note("its second output is left unwired: this mode sends nothing there")
    return Mapped("delay", config)


def _rate(node: Source, pause: str) -> dict[str, Any]:
    rate = node.number("rate", 1)
    if rate < 1 or not rate.is_integer():
        raise NotConvertible(f"rate: {whole(rate)} messages per interval; portless takes a "
                             f"whole number, 1 or more")
    count = node.number("nbRateUnits", 1) or 1
    interval = seconds(node, "nbRateUnits", "rateUnits", 1, "second") if count > 0 else 1
    config: dict[str, Any] = {"mode": {"rate": "rate", "queue": "per-topic",
                                       "timed": "latest-per-topic"}[pause],
                              "rate": int(rate), "interval": interval}
    drop = node.raw.get("drop", False)
    if drop == "emit":
        config["limited"] = "second-output"
    elif drop is True or drop == "true":
        config["limited"] = "drop"
    if pause != "rate" and config.get("limited") == "drop":
        del config["limited"]  # the per-topic modes drop what they replace anyway
    if node.flag("allowrate"):
        config["msg_rate"] = True
    return config


_FIRST = ("string", "number", "boolean", "json", "timestamp", "flow", "global", "env",
          "jsonata")


def trigger(node: Source) -> Mapped:
    duration = node.number("duration", 250)
    units = node.text("units", "ms") or "ms"
    config: dict[str, Any] = {}
    if duration == 0:
        config["then"] = "reset"
    else:
        if duration < 0:
            config["then"] = "resend"
        config["duration"] = _trigger_seconds(abs(duration), units)
        if node.flag("extend") and duration > 0:
            config["extend"] = True
    _first(node, config)
    if config.get("then") != "reset":
        _second(node, config)
    if node.flag("overrideDelay"):
        config["msg_delay"] = True
    if node.text("reset"):
        config["reset_payload"] = node.text("reset")
    if node.text("bytopic", "all") == "topic":
        config["per_topic"] = True
        topic = _path(node.text("topic", "topic")) or "topic"
        if topic != "topic":
            config["topic_property"] = topic
    if int(node.number("outputs", 1)) == 2:
        config["second_output"] = True
    return Mapped("trigger", config)


def _trigger_seconds(duration: float, units: str) -> float | int:
    scale = {"ms": 0.001, "s": 1, "min": 60, "hr": 3600}.get(units)
    if scale is None:
        raise NotConvertible(f"units: unknown unit {units!r}")
    return whole(round(duration * scale, 9))


def _trigger_value(node: Source, key: str, default: str) -> tuple[Any, str]:
    """A trigger value as Node-RED reads it: type 'val' (its old editor) is a boolean,
    null or a text by what it says."""
    value, value_type = node.raw.get(key, default), node.text(key + "type", "str") or "str"
    if value_type == "val":
        value_type = "bool" if value in ("true", "false") else "null" if value == "null" \
            else "str"
    if value_type == "date" and value in ("1", "0"):
        value = ""
    if value_type == "str" and isinstance(value, str) and "{{" in value:
        node.note(f"{key}: the Mustache in {value!r} is not expanded (use a jsonata value)")
    return value, value_type


_AS_IS: dict[str, dict[str, Any]] = {"pay": {"kind": "msg", "value": "payload"},
                                     "null": {"kind": "json", "value": None}}
"""Trigger value types that are one portless value whatever the text: the payload as it
came, and null."""


def _payload(node: Source, key: str, default: str) -> tuple[str, dict[str, Any] | None]:
    """A trigger's payload: ("nul" or "payl", None) for nothing and the latest message,
    else ("", the typed value)."""
    value, value_type = _trigger_value(node, key, default)
    if value_type in ("nul", "payl"):
        return value_type, None
    if value_type in _AS_IS:
        return "", dict(_AS_IS[value_type])
    return "", typed(node, value, value_type, _FIRST, key)


def _first(node: Source, config: dict[str, Any]) -> None:
    special, value = _payload(node, "op1", "1")
    if special:  # nothing (and "the latest", which Node-RED offers only second)
        config["send_first"] = False
    else:
        config["first"] = value


def _second(node: Source, config: dict[str, Any]) -> None:
    special, value = _payload(node, "op2", "0")
    if special:
        config["send_second"] = "nothing" if special == "nul" else "latest"
    else:
        config["second"] = value


_RBE_MODES = {"rbe": "changed", "rbei": "changed-ignore-initial", "deadband": "deadband",
              "deadbandEq": "deadband-or-equal", "narrowband": "narrowband",
              "narrowbandEq": "narrowband-or-equal"}


def rbe(node: Source) -> Mapped:
    func = node.choice("func", _RBE_MODES, "rbe", "mode")
    config: dict[str, Any] = {"mode": _RBE_MODES[func]}
    gap = node.text("gap", "0").strip() or "0"
    if func not in ("rbe", "rbei"):
        if gap.endswith("%"):
            number_of(gap[:-1], "gap")
            config["band"] = gap
        else:
            config["band"] = number_of(gap, "gap")
        if node.text("inout", "out") == "in":
            config["compare"] = "last-input"
        start = node.text("start").strip()
        if start and func.startswith("narrowband"):
            config["start"] = number_of(start, "start")
    if node.raw.get("septopics") is False or node.raw.get("septopics") == "false":
        config["separate_topics"] = False
    prop = _path(node.text("property", "payload")) or "payload"
    if prop != "payload":
        config["property"] = prop
    topic = _path(node.text("topi", "topic")) or "topic"
    if topic != "topic":
        config["topic_property"] = topic
    return Mapped("exception-filter", config)


_TEMPLATE_OUTPUTS = {"str": "text", "json": "json", "yaml": "yaml"}


def template(node: Source) -> Mapped:
    output = node.choice("output", _TEMPLATE_OUTPUTS, "str", "output")
    syntax = node.choice("syntax", ("mustache", "plain"), "mustache", "syntax")
    place = node.text("fieldType", "msg") or "msg"
    field = node.text("field", "payload") or "payload"
    return Mapped("template", {
        "property": typed(node, _path(field) if place == "msg" else field, place, PLACES,
                          "field"),
        "template": node.text("template"), "syntax": syntax,
        "output": _TEMPLATE_OUTPUTS[output]})


TABLE = {"function": function, "change": change, "switch": switch, "range": range_,
         "template": template, "delay": delay, "trigger": trigger, "rbe": rbe}
