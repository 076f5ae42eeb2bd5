"""JSONata expressions, as Node-RED's change, switch, inject and join nodes use them.

An expression is compiled once (``Expression(text)``, at a node's start or a config
check) and evaluated per message with the message as its input, as Node-RED does, and
with Node-RED's extra functions: ``$flowContext(key)``, ``$globalContext(key)``,
``$env(name)`` and ``$clone(value)`` (not ``$moment``: JSONata's own ``$now``,
``$millis``, ``$fromMillis`` and ``$toMillis`` do dates). The engine is
jsonata-python, a pure-Python port of the reference implementation; each evaluation
is bounded in time and depth, so a runaway expression is an error on its message, not a
stalled event loop.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

_limit = sys.getrecursionlimit()
import jsonata  # noqa: E402 (it raises the process's recursion limit when imported)

sys.setrecursionlimit(_limit)  # keep Python's own bound: deep recursion in C code crashes

_library_numeric = jsonata.Jsonata.evaluate_numeric_expression


def _numeric_with_javascript_remainder(self: jsonata.Jsonata, lhs: Any, rhs: Any,
                                       op: str | None) -> Any:
    """jsonata-python 0.7 cuts a remainder to a whole number (20.2 % 2 gives 0); JSONata's
    ``%`` is JavaScript's, which keeps the fraction (0.2): the library checks the operands
    and its answer is replaced by the remainder itself."""
    result = _library_numeric(self, lhs, rhs, op)
    if op == "%" and result is not None and float(rhs) != 0:
        return jsonata.utils.Utils.convert_number(math.fmod(float(lhs), float(rhs)))
    return result


jsonata.Jsonata.evaluate_numeric_expression = _numeric_with_javascript_remainder

JSONATA_KEYWORD = "x-jsonata"
"""Schema keyword (``"x-jsonata": true``) on a string field holding a JSONata expression:
the config check compiles it, so a syntax error names the node and field."""
TIMEOUT_MS = 500
"""The longest one evaluation may run before it fails (the event loop waits meanwhile)."""
MAX_DEPTH = 200
"""The deepest evaluation stack an expression may build (a runaway recursion fails)."""

ContextReader = Callable[[str], Any]


class ExpressionError(ValueError):
    """A JSONata expression that does not compile, or failed on a message; the text says
    what and where (the character position)."""


class Expression:
    """A compiled JSONata expression; ``evaluate(msg)`` runs it on one message."""

    def __init__(self, text: str, *, flow_context: ContextReader | None = None,
                 global_context: ContextReader | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.text = text
        try:
            self._compiled = jsonata.Jsonata(text, timeout=TIMEOUT_MS, stack=MAX_DEPTH)
        except jsonata.JException as exc:
            raise ExpressionError(_sentence(exc)) from None
        environment = os.environ if env is None else env
        self._compiled.register_lambda("env", lambda name: environment.get(name, ""))
        self._compiled.register_lambda("clone", copy.deepcopy)
        if flow_context is not None:
            self._compiled.register_lambda("flowContext", flow_context)
        if global_context is not None:
            self._compiled.register_lambda("globalContext", global_context)

    def evaluate(self, msg: Any, bindings: Mapping[str, Any] | None = None) -> Any:
        """The expression's value with ``msg`` as its input (None where it yields
        nothing) and ``bindings`` as variables (``{"I": 2}`` is ``$I``); raises
        ExpressionError naming the position where it failed."""
        try:
            return self._compiled.evaluate(msg, bindings)
        except jsonata.JException as exc:
            raise ExpressionError(_sentence(exc)) from None
        except RecursionError:
            raise ExpressionError("nested too deeply to evaluate") from None

    def __repr__(self) -> str:
        return f"<Expression {self.text!r}>"


@lru_cache(maxsize=1024)
def expression_error(text: str) -> str | None:
    """Why ``text`` is not a JSONata expression, or None if it compiles."""
    try:
        jsonata.Jsonata(text)
    except jsonata.JException as exc:
        return _sentence(exc)
    except RecursionError:
        return "nested too deeply to compile"
    return None


def _sentence(exc: jsonata.JException) -> str:
    message = str(exc).rstrip(".")
    return f"{message} (at character {exc.location})" if exc.location else message
