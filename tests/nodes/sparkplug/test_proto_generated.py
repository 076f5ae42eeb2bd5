"""The committed portless_sparkplug_b_pb2.py is what protoc makes of the .proto today."""

from __future__ import annotations

from pathlib import Path

from grpc_tools import protoc

SOURCE = Path(__file__).parents[3] / "nodes" / "sparkplug"


def test_generated_module_matches_the_proto(tmp_path: Path) -> None:
    status = protoc.main(["protoc", f"--proto_path={SOURCE}", f"--python_out={tmp_path}",
                          str(SOURCE / "portless_sparkplug_b.proto")])
    assert status == 0
    generated = (tmp_path / "portless_sparkplug_b_pb2.py").read_text()
    assert generated == (SOURCE / "portless_sparkplug_b_pb2.py").read_text(), \
        "regenerate portless_sparkplug_b_pb2.py (nodes/sparkplug/README.md)"
