#!/usr/bin/env python3
"""Check aiobs JSON exports against the Python SDK's own data models (aiobs 0.1.5).

Usage:
    check_python_models.py FILE.json [FILE2.json ...]
    check_python_models.py --fields

For each file: ``aiobs.models.ObservabilityExport.model_validate`` in pydantic's lax mode,
then in strict mode (strict rejects numbers written as strings, ``1.0`` for an integer,
``true`` for a number, ...). One line is printed per problem (``FAIL FILE: [model] ...``),
then ``N passed, M failed``, counted in files. The exit status is 0 only when every file
passes.

This checks only what the Python SDK's models say. The rest of the format (the key sets, the
trace tree, session references, timing, labels) is checked by ``aiobs validate``, the one
place where those rules are written out.

``--fields`` prints, as JSON, every model's fields in order and whether each may be null, so
that a test can hold ``aiobs validate``'s own table of fields to the installed models.

Needs the packages pinned in requirements.txt next to this file.
"""

from __future__ import annotations

import json
import sys
import threading
import types
import typing
from typing import Any, Dict, List

from pydantic import ValidationError

from aiobs.models import (
    Callsite,
    ObservabilityExport,
    ObservedEvent,
    ObservedFunctionEvent,
    Session,
    SessionMeta,
)

MODELS = (ObservabilityExport, Session, SessionMeta, Callsite, ObservedEvent, ObservedFunctionEvent)
ERRORS_SHOWN = 5


def accepts_none(annotation: Any) -> bool:
    """Whether a field with this annotation may hold None (Any, Optional[...], X | None)."""
    if annotation is Any or annotation is type(None):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is getattr(types, "UnionType", None):
        return any(accepts_none(a) for a in typing.get_args(annotation))
    return False


def fields() -> Dict[str, List[Dict[str, Any]]]:
    return {
        model.__name__: [
            {"name": name, "nullable": accepts_none(field.annotation)}
            for name, field in model.model_fields.items()
        ]
        for model in MODELS
    }


def problems(err: ValidationError) -> List[str]:
    out = []
    for e in err.errors()[:ERRORS_SHOWN]:
        loc = ".".join(str(p) for p in e.get("loc", ()))
        out.append(f"{loc}: {e.get('msg')} (got {str(e.get('input'))[:80]!r})")
    if err.error_count() > ERRORS_SHOWN:
        out.append(f"... {err.error_count() - ERRORS_SHOWN} more error(s)")
    return out


def check_file(path: str) -> List[str]:
    """The problems of one file, each as `[check] message`."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        return [f"[json] cannot read or parse: {err}"]
    for strict, check in ((False, "model"), (True, "model-strict")):
        try:
            ObservabilityExport.model_validate(data, strict=strict)
        except ValidationError as err:
            return [f"[{check}] {line}" for line in problems(err)]
        except Exception as err:  # pydantic raises others on some shapes: still a verdict
            return [f"[{check}] {type(err).__name__}: {err}"]
    return []


def main(args: List[str]) -> int:
    if args == ["--fields"]:
        print(json.dumps(fields()))
        return 0
    if not args or any(a.startswith("-") for a in args):
        print("usage: check_python_models.py FILE.json [FILE2.json ...] | --fields", file=sys.stderr)
        return 2
    passed = failed = 0
    for path in args:
        found = check_file(path)
        for line in found:
            print(f"FAIL {path}: {line}")
        if found:
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def run_with_deep_stack(args: List[str]) -> int:
    """Runs main() on a thread with a large stack: trace trees nest as deep as the calls did."""
    result = [1]

    def target() -> None:
        result[0] = main(args)

    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 * 1024 * 1024)
    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    return result[0]


if __name__ == "__main__":
    sys.exit(run_with_deep_stack(sys.argv[1:]))
