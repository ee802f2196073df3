"""Errors a user can act on. The CLI and API print `str(err)` as one line."""


def first_line(message: object, default: str = "failed") -> str:
    """The first non-blank line of a message or an exception's text (`default` when it has none):
    how every shell and report shows an error in one line."""
    return (str(message).strip().splitlines() or [default])[0]


class RagError(Exception):
    """Base class: a clear, one-line, user-facing problem."""


class ConfigError(RagError):
    """Settings are missing or inconsistent."""


class IndexMismatchError(RagError):
    """The store was built with different embedding or chunking settings."""


class IndexMissingError(RagError):
    """Nothing has been ingested into this store yet."""


class InputError(RagError):
    """A file or question could not be used."""


class NotFoundError(InputError):
    """The request names a source or object that is not indexed."""


class StoreUnavailableError(RagError):
    """The vector store (e.g. a Chroma server) cannot be reached."""


class LockedError(RagError):
    """Another process holds the store's write lock."""


class LLMError(RagError):
    """The LLM endpoint failed or misbehaved."""
