"""Errors the API turns into Mastodon's error bodies.

    ApiError                 {"error": message} with any status
    ├── NotFound             404 "Record not found"
    ├── Unauthorized         401 "The access token is invalid"
    ├── Forbidden            403
    └── ValidationFailed     422 with Mastodon's per-field ``details``

Services raise these; the API and web layers render them.
"""
from __future__ import annotations


class ApiError(Exception):
    status_code = 400

    def __init__(self, message: str, status_code: int | None = None, **extra):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra

    def body(self) -> dict:
        body = {"error": self.message, **self.extra}
        if self.status_code == 422:
            # Mastodon's OpenAPI description requires `details` on every 422; clients that
            # only read `error` are unaffected.
            body.setdefault("details", {})
        return body


def invalid(field: str, message: str) -> ApiError:
    """A 422 about one parameter, its ``details`` naming the field as Mastodon's validation
    errors do (ERR_INVALID); ``message`` is the whole sentence, field name included."""
    return ApiError(message, 422, details={field: [{"error": "ERR_INVALID", "description": message}]})


class NotFound(ApiError):
    status_code = 404

    def __init__(self, message: str = "Record not found"):
        super().__init__(message)


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, message: str = "The access token is invalid"):
        super().__init__(message)


class Forbidden(ApiError):
    status_code = 403

    def __init__(self, message: str = "This action is not allowed"):
        super().__init__(message)


class ValidationFailed(ApiError):
    """422 with ``details``: {field: [{"error": "ERR_TAKEN", "description": "..."}]}."""

    status_code = 422

    def __init__(self, details: dict[str, list[tuple[str, str]]]):
        self.details = {
            field: [{"error": code, "description": text} for code, text in problems]
            for field, problems in details.items()
        }
        summary = ", ".join(
            f"{field.replace('_', ' ').capitalize()} {p['description']}"
            for field, problems in self.details.items()
            for p in problems
        )
        super().__init__(f"Validation failed: {summary}")

    def body(self) -> dict:
        return {"error": self.message, "details": self.details}


class Validation:
    """Collects field problems, then raises them all at once."""

    def __init__(self) -> None:
        self.problems: dict[str, list[tuple[str, str]]] = {}

    def add(self, field: str, code: str, description: str) -> None:
        self.problems.setdefault(field, []).append((code, description))

    def has(self, field: str) -> bool:
        return field in self.problems

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)
