"""docgen's version, in the one place that every output and cache key reads it from."""

__version__ = "0.1.0"
