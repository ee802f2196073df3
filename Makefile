# The two entry points from the README: `make demo` and `make test`.
PY := .venv/bin/python
RAG := .venv/bin/rag
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install install-dev demo test integration bench bench-quick eval lint clean

install:
	scripts/install

install-dev:
	scripts/install dev

demo: install
	$(RAG) ingest corpus/
	$(RAG) ask "How many rockets were fired at the US embassy in Baghdad?"

test: install-dev
	$(PY) -m pytest -q

eval: install
	$(RAG) eval

lint: install-dev
	.venv/bin/ruff check rag tests

clean:
	rm -rf .rag .venv
