"""Built-in node types. Each module holds one type; the registry finds them through
the ``portless.nodes`` entry points, exactly as it finds plugins."""
