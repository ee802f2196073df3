"""The policy for LLM sentences that no source of their context supports (after citation repair).

- None supported: the answer is a refusal with the shared phrase; the model's text stays in the
  answer as `rejected` output, with the reason, so nothing it said is hidden from the JSON.
- Some unsupported, `llm_unsupported = "remove"` (the default): they leave the answer and go to
  `removed`, each with its reason; a note says how many and why.
- `llm_unsupported = "show"` (`--show-unsupported`): they stay, flagged `supported: false`.
A briefing's steps ("mark") keep every sentence flagged and never refuse: they filter it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.answer.context import Context
from rag.answer.grounding import Grounding
from rag.models import RejectedOutput, ReplySentence, UnsupportedSentence
from rag.text.snippet import short

REJECTED_REASON = "no sentence of the model's answer is supported by a source in its context"


@dataclass
class Decision:
    shown: list[Grounding]
    removed: list[UnsupportedSentence] = field(default_factory=list)
    rejected: RejectedOutput | None = None
    notes: list[str] = field(default_factory=list)


def decide(groundings: list[Grounding], claims: list[ReplySentence], context: Context, mode: str) -> Decision:
    """`groundings[i]` verifies `claims[i]`; `mode` is "remove", "show" or "mark"."""
    unsupported = [(g, c) for g, c in zip(groundings, claims) if not g.supported]
    why = [f"{short(g.text)!r} is not supported by what it cites: {reason(g, c)}" for g, c in unsupported]
    if not unsupported or mode == "mark":
        return Decision(groundings, notes=why)
    if len(unsupported) == len(groundings):
        text = " ".join(f"{c.text} {''.join(f'[{n}]' for n in c.citations)}".strip() for c in claims)
        rejected = RejectedOutput(text=text, reason=REJECTED_REASON,
                                  sentences=[_unsupported(g, c, context) for g, c in unsupported])
        return Decision([], rejected=rejected,
                        notes=why + [f"refused: {REJECTED_REASON}; the model's answer is kept as rejected output"])
    counted = f"{len(unsupported)} of {len(groundings)} sentences"
    if mode == "show":
        note = f"{counted} are not supported by any source in the context; shown flagged (llm_unsupported = 'show')"
        return Decision(groundings, notes=why + [note])
    note = f"removed {counted}: no source in the context supports them (--show-unsupported shows them flagged)"
    return Decision([g for g in groundings if g.supported],
                    removed=[_unsupported(g, c, context) for g, c in unsupported], notes=why + [note])


def _unsupported(g: Grounding, claim: ReplySentence, context: Context) -> UnsupportedSentence:
    sources = [context.source(n).chunk.source for n in g.cited]
    return UnsupportedSentence(text=g.text, sources=list(dict.fromkeys(sources)), support=round(g.support, 4),
                               reason=reason(g, claim))


def reason(g: Grounding, claim: ReplySentence) -> str:
    if g.judged is False:
        return "the LLM judge found its cited text does not support it"
    verdict = g.evidence[0].anchor.verdict if g.evidence else None  # rag.answer.support_check's rule
    if verdict is not None and not verdict.supported and verdict.reason:
        return verdict.reason
    if not g.cited:
        return ("it cites no source of the context" if not claim.citations else
                "it cites only source numbers that were not in the context") + ", and no source states it"
    if g.evidence and not g.evidence[0].anchor.numbers_ok:
        return "a figure it states is in neither its cited source nor any other source of the context"
    return (f"its cited source does not state it (support {g.support:.2f}), "
            "nor does any other source of the context")
