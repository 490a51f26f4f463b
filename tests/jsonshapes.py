"""The pinned shapes of every ``--json`` output: one JSON Schema per schema id under tests/schemas/, and a validator."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).parent / "schemas"
# An output's "schema" value: mlc-devops/NAME/vN.
SCHEMA_ID = re.compile(r"^mlc-devops/([a-z][a-z-]*)/(v\d+)$")


def schema_file(schema_id: str) -> Path:
    """``mlc-devops/doctor/v1`` -> tests/schemas/doctor.v1.json."""
    match = SCHEMA_ID.match(schema_id)
    if not match:
        raise ValueError(f"not an mlc-devops schema id: {schema_id!r}")
    return SCHEMAS / f"{match.group(1)}.{match.group(2)}.json"


def pinned_ids() -> set[str]:
    """The schema ids that have a schema file."""
    return {json.loads(path.read_text(encoding="utf-8"))["$id"] for path in SCHEMAS.glob("*.json")}


@cache
def validator(schema_id: str) -> Draft202012Validator:
    schema = json.loads(schema_file(schema_id).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(payload: Any) -> list[str]:
    """Where ``payload`` departs from the schema its ``schema`` field names (empty: it fits)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("schema"), str):
        return ["not a JSON object with a schema field"]
    errors = validator(payload["schema"]).iter_errors(payload)
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]


def check(payload: Any) -> Any:
    """``payload`` itself, after asserting that it fits its pinned schema."""
    found = problems(payload)
    assert found == [], f"{payload.get('schema') if isinstance(payload, dict) else payload}: {found}"
    return payload


def check_text(text: str) -> Any:
    """A command's stdout: one JSON document that fits its pinned schema."""
    return check(json.loads(text))
