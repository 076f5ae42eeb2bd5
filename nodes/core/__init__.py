"""The core palette: Node-RED's everyday nodes (inject, change, switch, ...) under
readable names, one module each."""
