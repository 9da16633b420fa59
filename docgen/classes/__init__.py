"""Parse, analyze, resolve, hierarchy (the only C3), roles: the class model."""
