"""portless: a Node-RED-style dataflow runtime for edge devices that opens no ports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("portless")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
