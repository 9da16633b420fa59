"""Frozen records every stage exchanges, errors, configuration, escaping and templating."""
