"""References between nodes: a connection field naming a node of the right type, and
chains of connections that lead back to themselves; their errors in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import config_references
from .dependencies import reference_cycles
from .errors import FlowError
from .registry import Registry

if TYPE_CHECKING:
    from .flow import NodeSpec


def reference_problem(wanted: str, target: str, found: str | None) -> str | None:
    """What is wrong with a field naming ``target``, a ``wanted``, if its node is a
    ``found`` (None: no such node); None if nothing."""
    if found is None:
        return f"refers to missing {wanted} '{target}'"
    if found != wanted:
        return (f"refers to '{target}', {with_article(found)}, but must refer to "
                f"{with_article(wanted)}")
    return None


def with_article(noun: str) -> str:
    """ "an io-in", "a debug", "an mqtt-broker": the indefinite article by the first
    sound (a vowel letter, or an initialism said letter by letter, "em-queue-tee-tee")."""
    vowel_sound = noun[:1].lower() in "aeiou" or noun.lower().startswith(_SPELT_OUT)
    return f"{'an' if vowel_sound else 'a'} {noun}"


_SPELT_OUT = ("mqtt",)
"""Node type names that begin with an initialism starting with a vowel sound."""


def reference_cycle_errors(specs: Sequence[NodeSpec], registry: Registry) -> list[FlowError]:
    """A connection that uses itself, directly or through others (in any of the files
    given), can never start."""
    by_id = {spec.id: spec for spec in specs}
    errors = []
    for cycle in reference_cycles({spec.id: spec.refs for spec in specs}):
        spec, target = by_id[cycle[0]], cycle[1]
        cls = registry.get(spec.type)
        pointer = next((pointer for pointer, _, ref in config_references(
            cls.schema if cls else {}, spec.config) if ref == target), "")
        where = "itself" if len(cycle) == 2 else (
            f"'{target}', which leads back to this node ({' -> '.join(cycle)})")
        errors.append(FlowError(spec.tab, f"refers to {where}: a shared connection cannot "
                                      f"depend on itself", spec.id, f"/config{pointer}"))
    return errors
