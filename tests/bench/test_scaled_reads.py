"""Reads of a large index (the bench's 100x corpus: 80,001 records, 62,948 of them statements): chromadb cannot
return more than SQLite's 32,766 variables' worth of records in one get, so `ReadStore.get` reads in pages and
joins them. A stand-in collection with the same limit (scaled down) checks the paging, without building 80,000
records."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import store
from assistant.store import ReadStore

LIMIT = 7  # the stand-in's "SQLite variable limit"


class Collection:
    """chromadb.Collection.get over in-memory records, failing like chromadb past LIMIT records."""

    def __init__(self, count: int):
        self.ids = [f"c{i}" for i in range(count)]
        self.vectors = np.arange(count * 2, dtype=np.float32).reshape(count, 2)
        self.kinds = ["statement" if i % 3 else "section" for i in range(count)]
        self.calls = 0

    def get(self, ids=None, where=None, limit=None, offset=None, where_document=None, include=("metadatas",)):
        self.calls += 1
        rows = [i for i, _ in enumerate(self.ids) if ids is None or self.ids[i] in ids]
        if where:
            rows = [i for i in rows if self.kinds[i] == where["kind"]]
        rows = rows[offset or 0:][:limit]
        if len(rows) > LIMIT:
            raise RuntimeError("too many SQL variables")
        return {"ids": [self.ids[i] for i in rows], "included": list(include),
                "embeddings": self.vectors[rows] if "embeddings" in include else None,
                "metadatas": [{"kind": self.kinds[i]} for i in rows] if "metadatas" in include else None,
                "documents": None}


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "GET_PAGE", 3)


def test_a_read_of_more_than_a_page_is_paged_and_joined_in_order():
    collection = Collection(20)
    with pytest.raises(RuntimeError):
        collection.get(where={"kind": "statement"})  # one get of all 13 fails, as in chromadb
    got = ReadStore(None, "c", collection).get(where={"kind": "statement"}, include=["embeddings", "metadatas"])
    expected = [i for i in range(20) if i % 3]
    assert got["ids"] == [f"c{i}" for i in expected] and len(got["metadatas"]) == len(expected)
    assert np.array_equal(got["embeddings"], collection.vectors[expected]) and got["documents"] is None


def test_limit_offset_and_long_id_lists_are_paged_too():
    collection = Collection(20)
    reader = ReadStore(None, "c", collection)
    assert reader.get(limit=8, offset=5)["ids"] == [f"c{i}" for i in range(5, 13)]
    wanted = [f"c{i}" for i in range(19, 1, -2)]  # 9 ids, more than a page
    assert set(reader.get(ids=wanted, include=["embeddings"])["ids"]) == set(wanted)
    assert reader.get(where={"kind": "nothing"})["ids"] == []


def test_a_read_of_fewer_records_than_a_page_is_one_get():
    collection = Collection(2)
    assert ReadStore(None, "c", collection).get(include=["embeddings"])["ids"] == ["c0", "c1"]
    assert collection.calls == 1
