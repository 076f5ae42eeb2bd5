# What the generated module defines (protoc builds them at import, out of mypy's sight).
from typing import Any

DESCRIPTOR: Any
DataType: Any
Payload: Any
