"""The spec checker itself must catch what it is meant to catch."""
import httpx
import pytest

from tests.support.openapi import assert_matches_spec


def _response(status: int, body) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_a_valid_error_body_passes():
    assert_matches_spec(_response(404, {"error": "Record not found"}), "GET", "/api/v1/accounts/{id}")


def test_a_wrong_type_fails():
    with pytest.raises(AssertionError, match="does not match"):
        assert_matches_spec(_response(404, {"error": 12}), "GET", "/api/v1/accounts/{id}")


def test_an_undocumented_path_fails():
    with pytest.raises(AssertionError, match="not in the Mastodon OpenAPI"):
        assert_matches_spec(_response(200, {}), "GET", "/api/v1/nope")
