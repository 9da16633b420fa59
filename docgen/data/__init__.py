"""Data files shipped with docgen: the default mkdocs.yml and the upstream C++ call edges."""
