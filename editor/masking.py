"""Secrets between the flow file and the page (docs/security.md).

A secret is a field whose schema says ``writeOnly``, at any depth of a node's config
(a plugin's ``tls.key_password``, an item of a list of credentials). The page gets it
masked; a mask sent back means "keep what is stored", and is honoured only for the
same node (id and type) with the same destination: the fields its schema marks
``x-destination`` (mqtt-broker: host, port, tls), or, if it marks none, every other
field. Otherwise a token holder could point the broker at their own host and receive
the password in CONNECT.

``${NAME}`` references follow the same rule: a deploy from the editor may keep the
references the file has (same node, same field; for a secret field, the same
destination) but not add one. An environment variable's name does not say whether it
holds a secret, and a new ``${MQTT_PASSWORD}`` in an io-in topic would show the
password in the debug sidebar; whoever may add references edits the file on the device.

editor/static/schema.js ``secretFields`` applies the same walk in the page;
tests/editor/test_masking.py runs both over the same cases.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from portless.runtime import FlowError, FlowInvalid, Registry
from portless.runtime.config import PLACEHOLDER_PATTERN, fill_defaults

SECRET_MASK = "\u2022\u2022\u2022\u2022\u2022\u2022"
"""Sent in place of a secret's value; sent back, it means "keep the value on disk"."""
DESTINATION = "x-destination"
"""Schema keyword on the config fields that say where a node's secrets are sent."""

Field = tuple[Any, Any, str]
"""(the dict or list holding a secret, its key or index, its JSON pointer)."""


def secret_fields(schema: Mapping[str, Any], value: Any, pointer: str = "") -> list[Field]:
    """Every ``writeOnly`` field set in ``value`` (a config), at any depth, following
    properties, additionalProperties, items, prefixItems and every branch of allOf,
    anyOf, oneOf and if/then/else (a field secret in any branch is treated as secret)."""
    found: dict[str, Field] = {}
    _walk(schema, value, pointer, found)
    return list(found.values())


def _walk(schema: Any, value: Any, pointer: str, found: dict[str, Field]) -> None:
    if not isinstance(schema, Mapping):
        return
    branches = [*schema.get("allOf", []), *schema.get("anyOf", []), *schema.get("oneOf", []),
                schema.get("then"), schema.get("else")]
    for branch in branches:
        _walk(branch, value, pointer, found)
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        children = [(key, properties.get(key, extra)) for key in value]
    elif isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        children = [(index, prefix[index] if index < len(prefix) else schema.get("items"))
                    for index in range(len(value))]
    for key, subschema in children:
        if not isinstance(subschema, Mapping):
            continue
        where = f"{pointer}/{_escape(key)}"
        if subschema.get("writeOnly"):
            if value[key] not in ("", None):
                found[where] = (value, key, where)
        else:
            _walk(subschema, value[key], where, found)


def _escape(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def mask_document(document: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """A copy of the flow with every secret replaced by SECRET_MASK."""
    masked = copy.deepcopy(document)
    for _, cls, config in _configs(masked, registry):
        for holder, key, _ in secret_fields(cls.schema, config):
            holder[key] = SECRET_MASK
    return masked


def restore_secrets(document: dict[str, Any], on_disk: dict[str, Any], registry: Registry,
                    file: str) -> None:
    """Put the stored secrets back where the page sent masks (in place), and refuse
    masks and ``${NAME}`` references that would send a value somewhere new."""
    stored = {(node_id, cls.type): config for node_id, cls, config in _configs(on_disk, registry)}
    errors: list[FlowError] = []
    for node_id, cls, config in _configs(document, registry):
        if not _may_hold_mask_or_reference(config):  # most nodes of a big flow: nothing to do
            continue
        old_config = stored.get((node_id, cls.type))
        old_destination = None if old_config is None else _destination(cls.schema, old_config)
        old_config = old_config or {}
        same_place = old_destination == _destination(cls.schema, config)
        old_secrets = {where: (holder, key)
                       for holder, key, where in secret_fields(cls.schema, old_config)}
        secret_pointers = set()
        for holder, key, where in secret_fields(cls.schema, config):
            secret_pointers.add(where)
            if holder[key] != SECRET_MASK:
                continue
            problem = _keeps_secret(where in old_secrets, same_place)
            if problem:
                errors.append(FlowError(file, f"masked, but {problem}; enter it again",
                                        node_id, f"/config{where}"))
            else:
                old_holder, old_key = old_secrets[where]
                holder[key] = old_holder[old_key]
        old_references = set(env_references(old_config))
        for where, name in env_references(config):
            moved = where in secret_pointers and not same_place
            if (where, name) not in old_references or moved:
                errors.append(FlowError(file, _new_reference(name, moved), node_id,
                                        f"/config{where}"))
    if errors:
        raise FlowInvalid(errors)


def _may_hold_mask_or_reference(config: dict[str, Any]) -> bool:
    """False only if no string in the config holds a mask or ``${``: the repr of a
    str shows both as they are (printable characters are not escaped)."""
    text = repr(config)
    return SECRET_MASK in text or "${" in text


def _new_reference(name: str, moved: bool) -> str:
    where = ("here while the node points where it did" if moved
             else "where the flow file already has it")
    return (f"${{{name}}} cannot be added from the editor: a reference to an environment "
            f"variable is kept only {where}; add it to the file on the device "
            f"(docs/security.md)")


def _keeps_secret(stored: bool, same_place: bool) -> str:
    """Why a masked secret cannot be kept, or "" if it can."""
    if not stored:
        return "no value is stored for this node and field (renamed or copied?)"
    if not same_place:
        return ("the node now points elsewhere, and a stored secret goes only to where it "
                "was entered for")
    return ""


def env_references(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """(pointer, NAME) of every ``${NAME}`` in the strings of a config, at any depth."""
    if isinstance(value, str):
        for match in PLACEHOLDER_PATTERN.finditer(value):
            yield pointer, match.group(1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from env_references(item, f"{pointer}/{_escape(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from env_references(item, f"{pointer}/{index}")


def _destination(schema: Mapping[str, Any], config: dict[str, Any]) -> Any:
    """What says where this node's secrets go: its x-destination fields (defaults
    filled in), or, if its schema marks none, everything; secrets in them masked (a TLS
    block may hold its key's password)."""
    filled = copy.deepcopy(config)
    fill_defaults(schema, filled)
    for holder, key, _ in secret_fields(schema, filled):
        holder[key] = SECRET_MASK
    marked = [key for key, field in schema.get("properties", {}).items()
              if isinstance(field, Mapping) and field.get(DESTINATION)]
    return {key: filled.get(key) for key in marked} if marked else filled


def _configs(document: dict[str, Any], registry: Registry
             ) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(node id, node class, config) of every well-formed node of a known type."""
    nodes = document.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict) or not isinstance(node.get("config"), dict):
            continue
        cls = registry.get(node["type"]) if isinstance(node.get("type"), str) else None
        if cls is not None and isinstance(node.get("id"), str):
            yield node["id"], cls, node["config"]
