"""Errors a user can act on. The CLI and API print `str(err)` as one line."""


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
