"""Zero-port fleet management: signed flow bundles and the device side that applies them
(issue 13). Keys and bundles are here; see docs/fleet.md for what exists and what is
planned."""
