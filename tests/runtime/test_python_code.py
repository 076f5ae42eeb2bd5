"""Python code fields: compiled with the user's line numbers, checked at load."""

from __future__ import annotations

import asyncio

import pytest

from portless.runtime import code_failure, compile_body, compile_script
from portless.runtime.python_code import body_error, script_error


def test_a_body_is_a_function_of_msg_with_the_namespace_as_its_globals() -> None:
    body = compile_body("return msg * factor", "<f>", {"factor": 3})
    assert body(2) == 6


def test_an_exception_names_the_users_line_not_the_runtimes() -> None:
    body = compile_body("x = 1\n\nreturn msg[x]", "<f>", {})
    with pytest.raises(IndexError) as raised:
        body([])
    assert code_failure(raised.value, "<f>") == "IndexError: list index out of range (line 3)"


def test_a_script_may_await_and_leaves_its_names_in_the_namespace() -> None:
    namespace: dict[str, object] = {}
    running = eval(compile_script("import asyncio\nawait asyncio.sleep(0)\nready = 1",
                                  "<s>"), namespace)
    asyncio.run(running)
    assert namespace["ready"] == 1


@pytest.mark.parametrize(("check", "text", "why"), [
    (body_error, "return msg", None),
    (body_error, "", None),
    (body_error, "if msg:\nreturn 1", "expected an indented block after 'if' statement "
                                       "on line 1 (line 2)"),
    (body_error, "await x", "'await' outside async function (line 1)"),
    (body_error, "a\x00b", "source code string cannot contain null bytes"),
    (script_error, "await x\ny = 2", None),
    (script_error, "return 1", "'return' outside function (line 1)"),
])
def test_the_load_check_says_why_with_the_line(check: object, text: str,
                                               why: str | None) -> None:
    assert check(text) == why  # type: ignore[operator]
