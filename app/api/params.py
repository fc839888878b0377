"""Request parameters as Mastodon clients send them.

Clients send query strings, JSON, urlencoded or multipart bodies, with Rails-style
names (``fields_attributes[0][name]``, ``scopes[]``). ``read_params`` merges them
into one nested dict; the ``Params`` accessors coerce and validate values.
"""
from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from app.errors import ApiError, invalid
from app.text import boolean, has_nul
from app.text import whole_number as parse_whole_number

_KEY_PART = re.compile(r"\[([^\]]*)\]")
MAX_DEPTH = 32  # brackets in one parameter name, as Rack's default limit


def _insert(target: dict, name: str, value: Any) -> None:
    head, _, rest = name.partition("[")
    parts = [head] + (_KEY_PART.findall("[" + rest) if rest else [])
    if len(parts) > MAX_DEPTH:
        raise ApiError("Request parameters are nested too deeply", 400)
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "":  # `key[]` appends to a list
            continue
        if not last and parts[i + 1] == "" and i + 2 < len(parts):
            # `key[][field]`, Rails' list of hashes (keywords_attributes[][keyword]): a field
            # the last hash already has starts the next one.
            items = node.setdefault(part, [])
            if not isinstance(items, list):
                return
            field = parts[i + 2]
            if not items or not isinstance(items[-1], dict) or field in items[-1]:
                items.append({})
            _insert(items[-1], field + "".join(f"[{p}]" for p in parts[i + 3:]), value)
            return
        appends = not last and parts[i + 1] == "" and i + 1 == len(parts) - 1
        if last:
            if isinstance(node, dict):
                node[part] = value
            return
        if appends:
            existing = node.setdefault(part, [])
            if isinstance(existing, list):
                existing.append(value)
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child


class Params(dict):
    """A dict with typed accessors that raise Mastodon-style 422s for bad values."""

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name, default)
        if value is None:
            return None
        if isinstance(value, (dict, list, UploadFile)):
            raise invalid(name, f"{name} must be a string")
        return str(value)

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self.get(name)
        if value is None or value == "":
            return default
        parsed = boolean(value)
        if parsed is None:
            raise invalid(name, f"{name} must be a boolean")
        return parsed

    def int(self, name: str, default: int | None = None, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
        value = self.get(name)
        if value is None or value == "":
            return default
        number = whole_number(name, value)
        if minimum is not None and number < minimum:
            raise invalid(name, f"{name} must be at least {minimum}")
        if maximum is not None and number > maximum:
            number = maximum
        return number

    def list(self, name: str) -> list:
        value = self.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, dict):  # fields_attributes[0][name] style
            return [value[k] for k in sorted(value, key=lambda k: (len(k), k))]
        return [value]

    def file(self, name: str) -> UploadFile | None:
        value = self.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, UploadFile):
            raise invalid(name, f"{name} must be a file upload")
        return value


def whole_number(name: str, value) -> int:
    """`value` (text or a JSON number) as an int, or a 422 naming the parameter."""
    number = parse_whole_number(value)
    if number is None:
        raise invalid(name, f"{name} must be an integer")
    return number


NUL_REFUSED = "Request parameters must not contain NUL characters or lone surrogates"


async def read_params(request: Request) -> Params:
    params = await _read(request)
    try:
        refused = has_nul(params)  # 400, not a 500 from PostgreSQL
    except RecursionError:  # JSON nested about as deep as the parser allows
        raise ApiError("Request parameters are nested too deeply", 400) from None
    if refused:
        raise ApiError(NUL_REFUSED, 400)
    return params


async def _read(request: Request) -> Params:
    params = Params()
    for key, value in request.query_params.multi_items():
        _insert(params, key, value)
    if request.method in ("GET", "HEAD", "DELETE") and not request.headers.get("content-length"):
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):  # nested beyond reason: invalid too
                raise ApiError("Invalid JSON in request body", 400) from None
            if not isinstance(body, dict):
                raise ApiError("Request body must be a JSON object", 400)
            params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form(max_files=10, max_fields=1000)
        except Exception as exc:  # malformed multipart
            raise ApiError(f"Malformed form body: {exc}", 400) from None
        for key, value in form.multi_items():
            _insert(params, key, value)
    return params
