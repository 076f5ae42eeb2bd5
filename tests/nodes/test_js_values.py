"""js_values.js_string of numbers, against JavaScript's own String(number) in Node.js:
the state key of a numeric topic (exception-filter), a number's text in a switch's
`contains` or a change's replacement."""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess

import pytest

from portless.nodes.js_values import js_string

# (number, JavaScript's String(number))
KNOWN = [
    (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (-1e-7, "-1e-7"), (1e-6, "0.000001"),
    (1e-5, "0.00001"), (0.000123, "0.000123"), (0.1, "0.1"), (123.456, "123.456"),
    (-0.0, "0"), (0.0, "0"), (1e16, "10000000000000000"), (2.0 ** 53, "9007199254740992"),
    (2.0 ** 60, "1152921504606847000"), (1e20 + 1e5, "100000000000000100000"),
    (1e21, "1e+21"), (1.5e21, "1.5e+21"), (1e300, "1e+300"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (float("nan"), "NaN"),
    # integers beyond 2^53 keep their digits on purpose (JavaScript has no such ints)
    (2 ** 53 + 1, "9007199254740993"), (10 ** 21, "1000000000000000000000"),
]


@pytest.mark.parametrize(("number", "text"), KNOWN, ids=[text for _, text in KNOWN])
def test_numbers_are_written_as_javascript_writes_them(number: float, text: str) -> None:
    assert js_string(number) == text


def doubles(count: int) -> list[float]:
    """Finite doubles of every magnitude: random bit patterns, random powers of ten, and
    the edges where JavaScript switches between decimal and exponent form."""
    rng = random.Random(1962)
    found: list[float] = []
    while len(found) < count // 2:
        (value,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if value == value and abs(value) != float("inf"):
            found.append(value)
    found += [rng.choice((1, -1)) * rng.uniform(1, 10) * 10.0 ** rng.randint(-30, 30)
              for _ in range(count // 2)]
    found += [float(f"{mantissa}e{power}") for mantissa in (1, 1.5, 9.999999999999999)
              for power in range(-9, -4)] + [10.0 ** power for power in range(18, 24)]
    return found


@pytest.mark.slow  # runs Node.js
def test_thousands_of_doubles_agree_with_javascript() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    numbers = doubles(4000)
    done = subprocess.run([node, "-e", "const xs = JSON.parse(require('fs')."
                           "readFileSync(0, 'utf8')); console.log(JSON.stringify("
                           "xs.map((x) => String(x))));"],
                          input=json.dumps(numbers), capture_output=True, text=True,
                          check=True, timeout=60)
    theirs = json.loads(done.stdout)
    differing = [(number, ours, text) for number, text in zip(numbers, theirs, strict=True)
                 if (ours := js_string(number)) != text]
    assert differing == []
