"""Every Node-RED type the importer maps, to the one function that maps it."""

from __future__ import annotations

from collections.abc import Callable

from . import common, function, network, parser, sequence
from .source import Mapped, Source

Mapping = Callable[[Source], Mapped]
MAPPINGS: dict[str, Mapping] = {**common.TABLE, **function.TABLE, **network.TABLE,
                                **parser.TABLE, **sequence.TABLE}
"""Node-RED type -> its mapping; a type not here is reported as not converted."""
