"""Fuzz the readers with random front matter: N files, one ingest, no unhandled exception.

    python -m bench.fuzz_frontmatter --files 10000      (make fuzz-frontmatter)

Each file is a random mix of what breaks YAML front matter: anchors and alias bombs, deep
nesting, impossible dates and times, huge integers and strings, tags, lists and mappings where
text belongs, control characters, unclosed fences, CRLF, byte-order marks and random bytes.
The run passes when the ingest returns, every failure is one line, and the index is consistent.
The generator is deterministic (fixed seed); tests/test_poison_inputs.py runs a small sample.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

KEYS = ["title", "date", "source", "url", "author", "id", "tags", "summary", "x"]
BODY = "Dock workers walked out at the harbour on Monday, halting the island ferries, officials said.\n"


def _scalar(rng: random.Random) -> str:
    choices = [
        lambda: "Harbour strike ends",
        lambda: f"{rng.randint(1900, 2100)}-{rng.randint(0, 14):02d}-{rng.randint(0, 33):02d}",
        lambda: f"2020-01-0{rng.randint(1, 9)} {rng.randint(0, 30)}:{rng.randint(0, 70):02d}:00",
        lambda: str(rng.randint(1, 9)) * rng.choice([1, 50, 5000]),
        lambda: "x" * rng.choice([10, 1000, 20_000]),
        lambda: rng.choice(["true", "null", "~", "yes", "1e309", ".nan", "-.inf", "0x1F", "0o17", "''", '""']),
        lambda: '"' + "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 30))).replace('"', "") + '"',
        lambda: '"\\x00\\u0007\\ud800 escaped"',
        lambda: rng.choice(["!!python/object:os.system 'ls'", "!!binary aGVsbG8=", "!custom tagged", "!!set {a, b}"]),
        lambda: "[" * rng.choice([3, 50, 3000]) + "]" * rng.choice([0, 3, 3000]),
        lambda: "{a: {b: {c: d}}}",
        lambda: "[a, b, c]",
        lambda: "|\n  line one\n  line two",
        lambda: "*undefined_alias",
        lambda: "&anchor value",
        lambda: ": : :",
        lambda: "'unterminated",
        lambda: "".join(rng.choice("{}[]:,&*!|>'\"%@`#-? \t") for _ in range(rng.randint(1, 20))),
    ]
    return rng.choice(choices)()


def _alias_bomb(rng: random.Random) -> str:
    depth, width = rng.randint(2, 9), rng.randint(2, 9)
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, depth):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    lines.append(f"{rng.choice(KEYS)}: *a{depth - 1}")
    return "\n".join(lines)


def front_matter(rng: random.Random) -> str:
    """One random front matter block (without the fences)."""
    if rng.random() < 0.1:
        return _alias_bomb(rng)
    lines = []
    for _ in range(rng.randint(0, 8)):
        key = rng.choice(KEYS + [_scalar(rng)[:20]])
        lines.append(f"{' ' * rng.choice([0, 0, 0, 2])}{key}: {_scalar(rng)}")
    return "\n".join(lines)


def file_bytes(rng: random.Random) -> bytes:
    """A random article file: front matter of some kind, a body, sometimes mangled bytes."""
    roll = rng.random()
    if roll < 0.05:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 600)))
    close = rng.choice(["---", "---", "---", "--- ", "...", ""])
    text = f"---\n{front_matter(rng)}\n{close}\n{BODY}"
    if rng.random() < 0.1:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8", "surrogatepass")
    if roll < 0.15:
        data = b"\xef\xbb\xbf" + data
    elif roll < 0.2:
        cut = rng.randint(0, len(data))
        data = data[:cut] + bytes(rng.randint(0, 255) for _ in range(8)) + data[cut:]
    return data


def write_files(directory: Path, count: int, seed: int = 19) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        path = directory / f"fuzz-{i:05d}.{rng.choice(['md', 'txt'])}"
        path.write_bytes(file_bytes(rng))
        paths.append(path)
    return paths


def run(count: int, seed: int = 19, workdir: Path | None = None) -> dict:
    """Write `count` files, ingest them in one run with the hash embedder, and check the result."""
    from rag.api import Rag
    from rag.index.status import check_index
    from rag.settings import Settings

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        write_files(corpus, count, seed)
        rag = Rag(Settings(store_dir=Path(tmp) / "store", corpus_dir=corpus, embedding_model="hash"))
        started = time.perf_counter()
        report = rag.ingest([corpus])
        seconds = time.perf_counter() - started
        multi_line = [k for k, v in report.failed.items() if not v or "\n" in v]
        unexpected = [k for k, v in report.failed.items() if v.startswith(("could not read", "could not parse"))]
        consistent = check_index(rag.store).consistent
        rag.close()
    return {"files": count, "added": len(report.added), "failed": len(report.failed),
            "duplicates": len(report.duplicates), "multi_line_reasons": multi_line,
            "unexpected_errors": unexpected, "consistent": consistent, "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    result = run(args.files, args.seed)
    print(" ".join(f"{k}={v if not isinstance(v, list) else len(v)}" for k, v in result.items()))
    ok = result["consistent"] and not result["multi_line_reasons"] and not result["unexpected_errors"]
    if not ok:
        print(f"FAILED: {result['multi_line_reasons'][:5]} {result['unexpected_errors'][:5]}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
