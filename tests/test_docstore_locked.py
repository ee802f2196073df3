"""A docstore another process holds locked while it opens is waited for, and is never called damaged;
a file that is not a database is."""

from __future__ import annotations

import sqlite3

import pytest

from rag.errors import RagError
from rag.index import docstore
from rag.index.docstore import DocStore


def _locked_then_free(times: int, calls: list[int]):
    real = docstore._prepare

    def prepare(db):
        calls.append(1)
        if len(calls) <= times:
            raise sqlite3.OperationalError("database is locked")
        return real(db)

    return prepare


def test_a_store_locked_while_it_opens_is_waited_for(tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(docstore, "_prepare", _locked_then_free(2, calls))
    store = DocStore(tmp_path / "rag.db")
    try:
        assert len(calls) == 3
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == docstore.SCHEMA_VERSION
    finally:
        store.close()


def test_a_store_that_stays_locked_is_busy_not_damaged(tmp_path, monkeypatch):
    monkeypatch.setattr(docstore, "_prepare", _locked_then_free(10**6, []))
    monkeypatch.setattr(docstore, "_PREPARE_WAIT_S", 0.2)
    with pytest.raises(RagError) as caught:
        DocStore(tmp_path / "rag.db")
    assert "stayed locked by another process" in str(caught.value)
    assert "damaged" not in str(caught.value)



def test_a_file_that_is_not_a_database_is_damaged(tmp_path):
    path = tmp_path / "rag.db"
    path.write_bytes(b"not a database, " * 300)
    with pytest.raises(RagError, match="is damaged"):
        DocStore(path)
