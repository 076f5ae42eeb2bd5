"""The other side of the OPC UA benchmark: an asyncua server whose ``ITEMS`` Double
variables (``ns=2;s=Bulk.<i>``) all change ``RATE`` times a second.

``python -m bench.opcua_plc PORT ITEMS RATE`` prints ``listening`` once it accepts
connections; ``ns=2;s=Ticks`` counts the rounds of changes made so far, so the
benchmark can tell what was offered from what it received.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from asyncua import ua
from asyncua.server.server import Server


async def serve(port: int, items: int, rate: float) -> None:
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # its warnings of security None
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/")
    index = await server.register_namespace("urn:portless:bench-plc")
    bulk = await server.nodes.objects.add_object(
        ua.NodeId.from_string(f"ns={index};s=Bulk"), "Bulk")
    nodes = [(await bulk.add_variable(ua.NodeId.from_string(f"ns={index};s=Bulk.{i}"), f"V{i}",
                                      ua.Variant(0.0, ua.VariantType.Double))).nodeid
             for i in range(items)]
    ticks = (await bulk.add_variable(ua.NodeId.from_string(f"ns={index};s=Ticks"), "Ticks",
                                     ua.Variant(0, ua.VariantType.Int64))).nodeid
    loop = asyncio.get_running_loop()
    async with server:
        print("listening", flush=True)
        due, tick = loop.time(), 0
        while True:
            tick += 1
            for i, node in enumerate(nodes):
                await server.write_attribute_value(
                    node, ua.DataValue(ua.Variant(float(tick * items + i),
                                                  ua.VariantType.Double)))
            await server.write_attribute_value(
                ticks, ua.DataValue(ua.Variant(tick, ua.VariantType.Int64)))
            due += 1 / rate
            await asyncio.sleep(max(due - loop.time(), 0))


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
