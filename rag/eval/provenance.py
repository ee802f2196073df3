"""Where a run came from: the code version and the settings that can change an answer."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rag.settings import Settings

_REPO = Path(__file__).resolve().parents[2]


def code_version(repo: Path = _REPO) -> tuple[str | None, bool | None]:
    """(git commit, whether tracked files have uncommitted changes); (None, None) outside git."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(repo), *args], check=False, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit.strip(), (bool(status.strip()) if status is not None else None)


def hashed_settings(settings: Settings) -> dict:
    """The settings that enter settings_hash(): no paths, no secrets."""
    from rag.settings import _UNHASHED  # the one list of fields kept out of the hash

    return settings.model_dump(mode="json", exclude=set(_UNHASHED))
