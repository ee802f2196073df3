"""The README's example output, produced by running the commands it shows (so it cannot drift).

    .venv/bin/python scripts/readme_examples.py            # ingest corpus/ into a temporary store, rewrite the blocks
    .venv/bin/python scripts/readme_examples.py --check    # exit 1, with a diff, when the README differs
    .venv/bin/python scripts/readme_examples.py --store-dir DIR   # use a store that already holds corpus/

Each example block of README.md sits between `<!-- example: NAME -->` and `<!-- /example -->`
and holds the command and its output, run with the default settings on corpus/. The time taken,
printed at the end of `rag ask`, is left out (it is the one part that changes from run to run).
tests/test_readme_examples.py runs this check in `make test`.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES = {
    "ask": ["ask", "How many rockets were fired at the US embassy in Baghdad?"],
    "show": ["show", "003_568550a85670bdb3.txt:15"],
}
_BLOCK = re.compile(r"(<!-- example: (?P<name>\w+) -->\n)(?P<body>.*?)(<!-- /example -->)", re.DOTALL)
_TIME = re.compile(r" · \d+(?:\.\d+)?s$", re.MULTILINE)


def rag(args: list[str], store_dir: Path) -> str:
    """`rag ARGS` with the default settings (no rag.toml, no RAG_* variables), as a new user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_CONFIG=str(Path(store_dir) / "no-rag.toml"), RAG_STORE_DIR=str(store_dir),
               HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", COLUMNS="100")
    done = subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"rag {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _quoted(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg


def produce(store_dir: Path) -> dict[str, str]:
    """Each example's block: the command line and what it prints."""
    out = {}
    for name, args in EXAMPLES.items():
        printed = _TIME.sub("", rag(args, store_dir)).rstrip()
        out[name] = f"```text\n$ rag {' '.join(_quoted(a) for a in args)}\n{printed}\n```\n"
    return out


def render(readme: str, blocks: dict[str, str]) -> str:
    """The README with every example block replaced by what the commands print now."""
    names = {m["name"] for m in _BLOCK.finditer(readme)}
    if names != set(blocks):
        raise SystemExit(f"README.md example blocks {sorted(names)} do not match EXAMPLES {sorted(blocks)}")
    return _BLOCK.sub(lambda m: m.group(1) + blocks[m["name"]] + m.group(4), readme)


def drift(store_dir: Path) -> str:
    """A unified diff from the README's blocks to what the commands print now ('' when equal)."""
    current = README.read_text(encoding="utf-8")
    wanted = render(current, produce(store_dir))
    return "".join(difflib.unified_diff(current.splitlines(True), wanted.splitlines(True), "README.md", "produced"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="compare only; exit 1 when the README differs")
    p.add_argument("--store-dir", type=Path, help="a store that already holds corpus/ (default: a fresh one)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        store = args.store_dir or Path(scratch) / "store"
        if args.store_dir is None:
            rag(["ingest", str(ROOT / "corpus")], store)
        if args.check:
            diff = drift(store)
            print(diff or "README.md examples match", end="" if diff else "\n")
            return 1 if diff else 0
        README.write_text(render(README.read_text(encoding="utf-8"), produce(store)), encoding="utf-8")
    print("README.md examples rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
