"""docgen: static documentation and UML of PyTorch internals, read without importing torch."""

__version__ = "0.1.0"
