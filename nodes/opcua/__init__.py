"""OPC UA client nodes: a shared connection, subscriptions and polls, writes.

asyncua is imported only when an OPC UA node starts (it costs half a second), so a
flow without OPC UA nodes does not pay for it.
"""
