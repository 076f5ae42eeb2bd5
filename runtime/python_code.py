"""Python code in a config field: checked at load, compiled once, errors by line.

A field marked ``"x-python": true`` holds the body of a function of one argument,
``msg`` (it may ``return``); one marked ``"x-python-script": true`` holds a script run
once (it may ``await`` at the top level, and the names it defines stay in the node's
namespace). Both compile with the user's own line numbers, so a syntax error at load
and an exception at run time name the line as the user sees it in the editor.

Code compiled here runs with the runtime's own rights: nothing is sandboxed.
"""

from __future__ import annotations

import ast
import traceback
from collections.abc import Callable
from typing import Any

PYTHON_KEYWORD = "x-python"
"""Schema keyword on a string field holding a function body (``msg`` in scope)."""
PYTHON_SCRIPT_KEYWORD = "x-python-script"
"""Schema keyword on a string field holding a script run once (top-level ``await``)."""

BODY_NAME = "__portless_body__"


def compile_body(text: str, filename: str, namespace: dict[str, Any]
                 ) -> Callable[[Any], Any]:
    """The function ``def f(msg): <text>`` with ``namespace`` as its globals; raises
    SyntaxError (``lineno`` as in ``text``)."""
    tree = ast.parse(text, filename)
    function = ast.parse(f"def {BODY_NAME}(msg): pass").body[0]
    assert isinstance(function, ast.FunctionDef)
    if tree.body:
        function.body = tree.body
    module = ast.fix_missing_locations(ast.Module([function], type_ignores=[]))
    exec(compile(module, filename, "exec"), namespace)  # trusted code: see the docstring
    compiled: Callable[[Any], Any] = namespace.pop(BODY_NAME)
    return compiled


def compile_script(text: str, filename: str) -> Any:
    """A script's code object, top-level ``await`` allowed (``eval`` it in a namespace:
    it answers a coroutine to await where the script awaits); raises SyntaxError."""
    return compile(text, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def code_failure(exc: BaseException, filename: str) -> str:
    """An exception raised in compiled code as one line: its type, its text and the
    user's line it came from (the deepest frame in ``filename``), not a traceback."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, SyntaxError):
        return f"{exc.msg} (line {exc.lineno})" if exc.lineno else exc.msg
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__)
             if frame.filename == filename]
    return f"{text} (line {lines[-1]})" if lines else text


def body_error(text: str) -> str | None:
    """Why ``text`` is no function body (a syntax error, with its line); None if it is."""
    return _syntax_error(lambda: compile_body(text, "<code>", {}))


def script_error(text: str) -> str | None:
    """Why ``text`` is no script (a syntax error, with its line); None if it is."""
    return _syntax_error(lambda: compile_script(text, "<code>"))


def _syntax_error(compile_it: Callable[[], Any]) -> str | None:
    try:
        compile_it()
    except (SyntaxError, ValueError) as exc:
        if "null bytes" in str(exc):  # SyntaxError or ValueError, by Python release
            return "source code string cannot contain null bytes"
        return code_failure(exc, "<code>")
    return None
