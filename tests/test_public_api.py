"""`rag/__init__.py` names the public API (issue 18): the Rag handle, Settings, Filters, the
models it returns and RagError, each the very object of its home module, loaded at first use."""

from __future__ import annotations

import subprocess
import sys

import rag


def test_every_public_name_is_the_object_of_its_home_module():
    import rag.api
    import rag.errors
    import rag.models
    import rag.retrieval
    import rag.settings

    assert {"Rag", "Settings", "Filters", "Answer", "Briefing", "Citation", "SearchResult", "RagError"} <= set(rag.__all__)
    assert rag.Rag is rag.api.Rag and rag.Settings is rag.settings.Settings and rag.Filters is rag.retrieval.Filters
    assert rag.RagError is rag.errors.RagError
    for name in rag.__all__:
        home = getattr(rag, name).__module__
        assert getattr(sys.modules[home], name) is getattr(rag, name), name


def test_an_unknown_name_is_an_attribute_error():
    try:
        rag.Nothing  # noqa: B018
    except AttributeError as err:
        assert "Nothing" in str(err)
    else:
        raise AssertionError("rag.Nothing did not raise")


def test_importing_a_leaf_module_does_not_load_the_index():
    code = "import sys, rag, rag.text.dates; print('rag.api' in sys.modules, 'rag.index.store' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
