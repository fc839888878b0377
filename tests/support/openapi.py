"""Check responses against Mastodon's OpenAPI description (../shared/spec).

    assert_matches_spec(response, "GET", "/api/v1/accounts/{id}")

fails when the status code is not documented for that operation, or when the JSON
body does not validate against the documented schema.
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import httpx
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
SPEC_NAME = Path("shared") / "spec" / "mastodon-openapi.json"


def spec_path() -> Path:
    """STARLING_OPENAPI_SPEC, else ../shared/spec beside the checkout (or beside any parent)."""
    override = os.environ.get("STARLING_OPENAPI_SPEC")
    if override:
        return Path(override)
    for parent in REPO.parents:
        if (parent / SPEC_NAME).is_file():
            return parent / SPEC_NAME
    raise RuntimeError(
        f"Mastodon's OpenAPI description was not found beside {REPO} (looked for {SPEC_NAME} in every "
        "parent); set STARLING_OPENAPI_SPEC to its path"
    )


@functools.cache
def spec() -> dict:
    return json.loads(spec_path().read_text())


@functools.cache
def _validator(method: str, path: str, status: str) -> Draft202012Validator | None:
    operation = spec()["paths"][path][method.lower()]
    responses = operation["responses"]
    entry = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
    if entry is None:
        raise AssertionError(f"{method} {path} does not document status {status} (documents {sorted(responses)})")
    schema = entry.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    # Refs are '#/components/...': give the schema the spec's components as its root.
    return Draft202012Validator({**schema, "components": spec()["components"]})


def assert_matches_spec(response: httpx.Response, method: str, path: str) -> None:
    paths = spec()["paths"]
    if path not in paths or method.lower() not in paths[path]:
        raise AssertionError(f"{method} {path} is not in the Mastodon OpenAPI description")
    validator = _validator(method, path, str(response.status_code))
    if validator is None:
        return
    body = response.json()
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        details = "\n".join(f"  at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10])
        raise AssertionError(f"{method} {path} -> {response.status_code} does not match the spec:\n{details}")
