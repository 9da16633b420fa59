"""docgen's error family; library code raises these, only cli.py turns them into exit codes."""

from __future__ import annotations


class DocgenError(Exception):
    """Base of every error docgen raises on purpose."""


class ConfigError(DocgenError):
    """The configuration or the command line asks for something impossible."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class SourceError(DocgenError):
    """A source file or archive could not be read or parsed."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


class FetchError(DocgenError):
    """A distribution could not be located, downloaded or opened."""


class LookupFailed(DocgenError):
    """A class or layer that the user named does not exist; carries close matches."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" (did you mean: {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"unknown name {name!r}{hint}")


class RenderError(DocgenError):
    """A page or diagram could not be produced."""
