"""The knobs of a briefing. Defaults were chosen on corpus/ and a sample of benchmark stories
(see the README's "Briefings" section); they are not tuned to particular articles."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BriefOptions:
    k: int = 24  # chunks retrieved for a topic
    max_chunks: int = 80  # chunks read for a whole-corpus briefing (leads of the newest articles first)
    summary_sentences: int = 4  # at most; at least 2 when the material has them
    key_facts: int = 8
    timeline_events: int = 12
    quotes: int = 6
    episode_days: int = 14  # dated articles further apart than this are never one episode
    min_links: int = 2  # shared statements that tie an article to an episode
    episode_relevance: float = 0.8  # with a topic, episodes below this share of the best one are left out
