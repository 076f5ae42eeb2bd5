"""Modbus data types: how many registers each takes, and registers to values and back in
each byte and word order, with the range checks that refuse a value instead of
truncating it.

Orders name the bytes of the value, most significant first (A), as the registers hold
them in address order: ABCD is big-endian (Modbus's own order), CDAB swaps the words
(low word first), BADC swaps the bytes within each word, DCBA both. 64-bit values
follow the same rule over four words (CDAB: the lowest word first). A 16-bit value
takes only the byte swap (BADC, DCBA); a string's characters stay in address order,
two to a register, high byte first unless the bytes are swapped.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

ORDERS = ("ABCD", "CDAB", "BADC", "DCBA")
NUMBER_TYPES = ("int16", "uint16", "int32", "uint32", "int64", "uint64", "float32",
                "float64")
TYPES = ("bool", *NUMBER_TYPES, "string")
BIT_TABLES = ("coil", "discrete-input")
REGISTER_TABLES = ("holding-register", "input-register")
TABLES = (*BIT_TABLES, *REGISTER_TABLES)
MAX_READ_REGISTERS = 125
"""Registers one read may ask for (Modbus application protocol 6.3, 6.4)."""
MAX_READ_BITS = 2000
"""Coils or discrete inputs one read may ask for (6.1, 6.2)."""
MAX_WRITE_REGISTERS = 123
"""Registers one write may carry (6.12); so a string holds at most 123 registers."""
LAST_ADDRESS = 65535

_STRUCT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q",
           "uint64": "Q", "float32": "f", "float64": "d"}
WIDTH = {name: struct.calcsize(code) // 2 for name, code in _STRUCT.items()}
"""Registers each number type takes."""
_FLOAT32_MAX = struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]


def register_count(data_type: str, registers: int) -> int:
    """Registers (or bits, for bool) a point of this type takes; ``registers`` is a
    string's length."""
    if data_type == "bool":
        return 1
    return registers if data_type == "string" else WIDTH[data_type]


def _to_bytes(words: Sequence[int], order: str) -> bytes:
    """The value's bytes, most significant first, from registers in address order."""
    if order in ("CDAB", "DCBA"):
        words = words[::-1]
    data = b"".join(word.to_bytes(2, "big") for word in words)
    return _swap_bytes(data) if order in ("BADC", "DCBA") else data


def _to_words(data: bytes, order: str) -> list[int]:
    """Registers in address order holding ``data`` (most significant byte first)."""
    if order in ("BADC", "DCBA"):
        data = _swap_bytes(data)
    words = [int.from_bytes(data[index:index + 2], "big") for index in range(0, len(data), 2)]
    return words[::-1] if order in ("CDAB", "DCBA") else words


def _swap_bytes(data: bytes) -> bytes:
    swapped = bytearray(data)
    swapped[0::2], swapped[1::2] = data[1::2], data[0::2]
    return bytes(swapped)


def decode_registers(words: Sequence[int], data_type: str, order: str) -> int | float | str:
    """The raw value (before scale and offset) the registers hold."""
    if data_type == "string":
        data = b"".join(word.to_bytes(2, "big") for word in words)
        if order in ("BADC", "DCBA"):
            data = _swap_bytes(data)
        return data.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    value: int | float = struct.unpack(">" + _STRUCT[data_type], _to_bytes(words, order))[0]
    return value


def scaled(raw: int | float, scale: float, offset: float) -> int | float:
    """raw * scale + offset; an integer stays one when nothing scales it."""
    return raw if scale == 1 and offset == 0 else raw * scale + offset


def encode_value(value: object, data_type: str, order: str, registers: int, scale: float,
                 offset: float) -> list[int] | bool:
    """The registers (or the bit) to write for ``value``; ValueError with a sentence
    when it does not fit the type (never truncated, never rounded past its meaning)."""
    if data_type == "bool":
        if isinstance(value, bool) or (type(value) in (int, float) and value in (0, 1)):
            return bool(value)
        raise ValueError(f"{_shown(value)} is not a bool (true, false, 1 or 0)")
    if data_type == "string":
        if not isinstance(value, str):
            raise ValueError(f"{_shown(value)} is not text")
        data = value.encode("utf-8")
        if len(data) > 2 * registers or "\0" in value:
            raise ValueError(f"text of {len(data)} UTF-8 bytes does not fit {registers} "
                             f"registers ({2 * registers} bytes)" if "\0" not in value
                             else "text holding NUL cannot be written (NUL ends a string)")
        data += b"\0" * (2 * registers - len(data))
        if order in ("BADC", "DCBA"):
            data = _swap_bytes(data)
        return [int.from_bytes(data[index:index + 2], "big")
                for index in range(0, len(data), 2)]
    raw = _unscaled(value, scale, offset)
    if data_type.startswith("float"):
        try:
            number: int | float = float(raw)
        except OverflowError:  # an int beyond any float
            number = math.inf
        limit = _FLOAT32_MAX if data_type == "float32" else math.inf
        if not math.isfinite(number) or abs(number) > limit:
            raise ValueError(f"{_shown(value)} does not fit {data_type}"
                             + (f" (at most {limit:.7g} either way)" if data_type ==
                                "float32" else " (a finite number)"))
    else:
        number = _whole(raw, value, data_type)
    return _to_words(struct.pack(">" + _STRUCT[data_type], number), order)


def _unscaled(value: object, scale: float, offset: float) -> float | int:
    """The raw number to write: (value - offset) / scale."""
    if isinstance(value, bool) or type(value) not in (int, float):
        raise ValueError(f"{_shown(value)} is not a number")
    number: int | float = value  # type: ignore[assignment]
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"{_shown(value)} is not a finite number")
    if scale == 1 and offset == 0:
        return number
    try:
        return (number - offset) / scale
    except OverflowError:  # an int beyond any float
        raise ValueError(f"{_shown(value)} is far beyond any register") from None


def _whole(raw: int | float, value: object, data_type: str) -> int:
    """``raw`` as the integer it stands for, within the type's range."""
    if isinstance(raw, float):
        nearest = round(raw)
        if abs(raw - nearest) > 1e-9 * max(1.0, abs(raw)):
            raise ValueError(f"{_shown(value)} is not a whole number of the register's "
                             f"units ({raw:g}); {data_type} holds whole numbers")
        raw = nearest
    bits = 16 * WIDTH[data_type]
    low, high = (0, 2 ** bits - 1) if data_type.startswith("u") \
        else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not low <= raw <= high:
        raise ValueError(f"{_shown(value)} does not fit {data_type} ({low:,} to {high:,})")
    return int(raw)


def _shown(value: object) -> str:
    """A value, briefly, for an error sentence."""
    if isinstance(value, int) and value.bit_length() > 64:  # str() of a huge int raises
        return f"a {value.bit_length()}-bit number"
    text = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    return text if len(text) <= 40 else text[:37] + "..."
