"""Modbus TCP and RTU: the shared connection, poll groups and writes."""
