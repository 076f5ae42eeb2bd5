"""Sparkplug B 3.0 edge node: the sparkplug-node connection, sparkplug-out, sparkplug-in."""
