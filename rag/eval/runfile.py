"""Run files: one JSON document (`.json`), or JSON lines (`.jsonl`: a header line with the run's
provenance and metrics, then one line per case)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from rag.errors import InputError
from rag.models import CaseResult, EvalRun


def default_run_path(store_dir: Path, run: EvalRun) -> Path:
    return Path(store_dir) / "eval-runs" / f"{run.id}.json"


def save_run(run: EvalRun, path: Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        if path.suffix == ".jsonl":
            header = run.model_dump(mode="json", exclude={"results"})
            lines = [json.dumps({"type": "run", **header})]
            lines += [json.dumps({"type": "case", **r.model_dump(mode="json")}) for r in run.results]
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            tmp.write_text(run.model_dump_json(indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        raise InputError(f"cannot write run file {path}: {err.strerror or err}") from None
    return path


def load_run(path: Path) -> EvalRun:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no run file {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read run file {path}: {err}") from None
    try:
        if path.suffix == ".jsonl":
            return _from_lines(text, path)
        return EvalRun.model_validate_json(text)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise InputError(f"{path} is not an eval run file ({where}: {first['msg']})") from None


def _from_lines(text: str, path: Path) -> EvalRun:
    header, results = None, []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number}: invalid JSON ({err.msg})") from None
        kind = record.pop("type", None) if isinstance(record, dict) else None
        if kind == "run" and header is None:
            header = record
        elif kind == "case":
            results.append(CaseResult.model_validate(record))
        else:
            raise InputError(f"{path}:{number}: expected a 'run' header first, then 'case' lines")
    if header is None:
        raise InputError(f"{path} is not an eval run file (no 'run' header line)")
    return EvalRun.model_validate({**header, "results": [r.model_dump() for r in results]})
