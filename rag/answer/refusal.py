"""The one refusal phrase: the prompts, the engines and the tests all use this constant."""

REFUSAL_PHRASE = "The corpus does not contain an answer to this question."
