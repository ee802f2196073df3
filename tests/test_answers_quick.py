"""The quick benchmark answer gate `make test` runs: 30 fixed benchmark questions (15 per half)
over a 70-article index (their gold articles and 40 others), plus 10 questions that index cannot
answer (bench/answers.py quick_set). Real MiniLM and Chroma: the index is small enough to embed in
about a minute, so no cache is needed on a clean clone; the hash embedder would measure a different
engine. The floors sit about 0.08 under the figures measured at the commit that set them (with 10
unanswerable questions, 0.08 is one question), so real breakage fails and noise does not."""

import re

import pytest
from conftest import BENCH

pytestmark = pytest.mark.skipif(not (BENCH / "articles.jsonl.gz").exists(), reason="benchmark data not present")

# Measured 2026-12-01 at c444ebf (extractive engine, defaults): accuracy 0.467 (14 of 30), false
# refusals 0.333 (10 of 30), answered when unanswerable 0.000 (0 of 10). Round 7 of issue 12 at
# 0bae448 (with a further-sentence ratio of 0.5, since returned to 0.9): 0.567, 0.233, 0.000; the
# floors stay those of c444ebf until the final engine is measured. A 70-article index has
# few distractors, so it refuses more than the full one (bench-answers) and rarely answers the
# unanswerable questions; the gate catches breakage, the benchmark measures quality.
FLOORS = {"accuracy": 0.38}
CEILINGS = {"false_refusals": 0.42, "answered_unanswerable": 0.10}
_MARKER = re.compile(r"\[\d+\]")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    from bench import data
    from bench.answers import quick_set
    from rag.api import Rag
    from rag.settings import Settings

    articles, answerable, unanswerable = quick_set(data.load_articles(data.DATA), data.load_questions(data.DATA))
    root = tmp_path_factory.mktemp("answers-quick")
    corpus = data.write_corpus(root / "corpus", [data.record(a) for a in articles])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_CONFIG", str(root / "none.toml"))
        rag = Rag(Settings(store_dir=root / "store", corpus_dir=corpus.parent))
        rag.ingest([corpus])
        yield rag, answerable, unanswerable
        rag.close()


def test_quick_benchmark_answers_meet_their_floors(quick):
    from bench.answers import question_date
    from bench.metrics import contains
    from rag.retrieval import Filters

    rag, answerable, unanswerable = quick
    answers = [rag.ask(q["question"], filters=Filters(as_of=question_date(q))) for q in answerable]
    blind = [rag.ask(q["question"], filters=Filters(as_of=question_date(q))) for q in unanswerable]
    figures = {
        "accuracy": sum(not a.refused and contains(_MARKER.sub(" ", a.answer), q["answer"])
                        for q, a in zip(answerable, answers)) / len(answerable),
        "false_refusals": sum(a.refused for a in answers) / len(answers),
        "answered_unanswerable": sum(not a.refused for a in blind) / len(blind),
    }
    print(figures)
    assert len(answerable) == 30 and len(unanswerable) == 10
    for name, floor in FLOORS.items():
        assert figures[name] >= floor, f"{name} {figures[name]:.3f} is under its floor {floor}"
    for name, ceiling in CEILINGS.items():
        assert figures[name] <= ceiling, f"{name} {figures[name]:.3f} is over its ceiling {ceiling}"
    for a in blind:
        if a.refused:
            assert a.refusal_reason, "every refusal says why"
