"""Size bounds of bundles and their chunks, in a module of their own so that the argument
parser can name them without importing what checks bundles (cryptography)."""

MAX_BUNDLE_BYTES = 8 * 1024 * 1024
"""The largest bundle read: far above a device's flows, far below a device's memory."""
DEFAULT_CHUNK_SIZE = 128 * 1024
MAX_CHUNKS = 4096
MIN_CHUNK_SIZE = MAX_BUNDLE_BYTES // MAX_CHUNKS
"""The smallest chunk ``--chunk-size`` takes: the largest bundle in MAX_CHUNKS chunks."""
