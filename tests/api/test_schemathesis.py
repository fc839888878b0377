"""Property-based requests from Mastodon's OpenAPI description: odd input never crashes.

Schemathesis generates requests for every operation of the description that the app routes
(a test below keeps it so), with a fixed seed and few examples, so the run is fast and always
the same; each is sent to the
in-process app as a signed-in user with every scope. Any 5xx or uncaught exception
is a defect: bad input must get a clear 4xx. An answer whose status the description documents
must also match its schema (an error body too: a 422 carries `details`). Set
STARLING_FUZZ_EXAMPLES to explore more.
"""
from __future__ import annotations

import os
import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from starlette.routing import Route

from tests.support.openapi import assert_matches_spec, spec, spec_path
from tests.support.world import post_status, signed_in

EXAMPLES = int(os.environ.get("STARLING_FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("STARLING_FUZZ_SEED", "20240601"))

# Schemathesis' own strategies use `random` internally; Hypothesis warns, the seed still holds.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

OPERATIONS = [
    ("POST", "/api/v1/apps"),
    ("GET", "/api/v1/instance"),
    ("GET", "/api/v2/instance"),
    ("GET", "/api/v1/accounts/{id}"),
    ("GET", "/api/v1/accounts/lookup"),
    ("GET", "/api/v1/accounts"),
    ("GET", "/api/v1/accounts/relationships"),
    ("GET", "/api/v1/accounts/{id}/statuses"),
    ("GET", "/api/v1/accounts/{id}/followers"),
    ("POST", "/api/v1/accounts/{id}/follow"),
    ("POST", "/api/v1/accounts/{id}/mute"),
    ("PATCH", "/api/v1/accounts/update_credentials"),
    ("POST", "/api/v1/statuses"),
    ("GET", "/api/v1/statuses"),
    ("GET", "/api/v1/statuses/{id}"),
    ("PUT", "/api/v1/statuses/{id}"),
    ("GET", "/api/v1/statuses/{id}/context"),
    ("POST", "/api/v1/statuses/{id}/reblog"),
    ("GET", "/api/v1/statuses/{id}/favourited_by"),
    ("POST", "/api/v1/polls/{id}/votes"),
    ("GET", "/api/v1/favourites"),
    ("GET", "/api/v1/blocks"),
    ("PUT", "/api/v1/media/{id}"),
    # feeds, notifications (issue 4)
    ("GET", "/api/v1/timelines/home"),
    ("GET", "/api/v1/timelines/public"),
    ("GET", "/api/v1/timelines/tag/{hashtag}"),
    ("GET", "/api/v1/timelines/list/{list_id}"),
    ("POST", "/api/v1/lists"),
    ("POST", "/api/v1/lists/{id}/accounts"),
    ("POST", "/api/v1/markers"),
    ("GET", "/api/v1/notifications"),
    ("GET", "/api/v2/notifications"),
    ("GET", "/api/v1/notifications/{id}"),
    ("POST", "/api/v1/notifications/{id}/dismiss"),
    ("GET", "/api/v1/notifications/unread_count"),
    ("POST", "/api/v1/notifications/requests/dismiss"),
    ("GET", "/api/v1/notifications/requests"),
    ("GET", "/api/v1/notifications/requests/{id}"),
    ("PATCH", "/api/v2/notifications/policy"),
    ("GET", "/api/v2/notifications/{group_key}"),
    ("GET", "/api/v2/notifications/{group_key}/accounts"),
    ("POST", "/api/v2/notifications/{group_key}/dismiss"),
    ("GET", "/api/v1/lists/{id}"),
    ("PUT", "/api/v1/lists/{id}"),
    ("DELETE", "/api/v1/lists/{id}/accounts"),
    ("GET", "/api/v1/markers"),
    # search and discovery (issue 5)
    ("GET", "/api/v2/search"),
    ("GET", "/api/v1/accounts/search"),
    ("GET", "/api/v1/tags/{name}"),
    ("POST", "/api/v1/tags/{name}/follow"),
    ("GET", "/api/v1/followed_tags"),
    ("GET", "/api/v1/trends/tags"),
    ("GET", "/api/v1/trends/statuses"),
    ("GET", "/api/v1/trends/links"),
    ("GET", "/api/v2/suggestions"),
    ("DELETE", "/api/v1/suggestions/{account_id}"),
    ("POST", "/api/v1/tags/{name}/unfollow"),
    ("GET", "/api/v1/conversations"),
    ("POST", "/api/v1/conversations/{id}/read"),
    ("DELETE", "/api/v1/conversations/{id}"),
    ("GET", "/api/v1/directory"),
    ("GET", "/api/v1/accounts/{id}/featured_tags"),
    # filters
    ("GET", "/api/v2/filters"),
    ("POST", "/api/v2/filters"),
    ("PUT", "/api/v2/filters/{id}"),
    ("POST", "/api/v2/filters/{filter_id}/keywords"),
    ("PUT", "/api/v2/filters/keywords/{id}"),
    ("POST", "/api/v2/filters/{filter_id}/statuses"),
    ("DELETE", "/api/v2/filters/statuses/{id}"),
    ("POST", "/api/v1/filters"),
    ("PUT", "/api/v1/filters/{id}"),
    # everything else the app routes, but the streaming endpoints (a stream never ends) and
    # GET /oauth/authorize (a page for a browser)
    ("POST", "/api/v1/accounts"),
    ("POST", "/api/v1/accounts/{id}/block"),
    ("GET", "/api/v1/accounts/{id}/following"),
    ("GET", "/api/v1/accounts/{id}/lists"),
    ("POST", "/api/v1/accounts/{id}/remove_from_followers"),
    ("POST", "/api/v1/accounts/{id}/unblock"),
    ("POST", "/api/v1/accounts/{id}/unfollow"),
    ("POST", "/api/v1/accounts/{id}/unmute"),
    ("GET", "/api/v1/accounts/familiar_followers"),
    ("GET", "/api/v1/accounts/verify_credentials"),
    ("GET", "/api/v1/announcements"),
    ("GET", "/api/v1/apps/verify_credentials"),
    ("GET", "/api/v1/bookmarks"),
    ("GET", "/api/v1/custom_emojis"),
    ("GET", "/api/v1/domain_blocks"),
    ("POST", "/api/v1/emails/confirmations"),
    ("GET", "/api/v1/endorsements"),
    ("GET", "/api/v1/featured_tags"),
    ("GET", "/api/v1/featured_tags/suggestions"),
    ("GET", "/api/v1/filters"),
    ("GET", "/api/v1/filters/{id}"),
    ("DELETE", "/api/v1/filters/{id}"),
    ("GET", "/api/v2/filters/{filter_id}/keywords"),
    ("GET", "/api/v2/filters/{filter_id}/statuses"),
    ("GET", "/api/v2/filters/{id}"),
    ("DELETE", "/api/v2/filters/{id}"),
    ("GET", "/api/v2/filters/keywords/{id}"),
    ("DELETE", "/api/v2/filters/keywords/{id}"),
    ("GET", "/api/v2/filters/statuses/{id}"),
    ("GET", "/api/v1/follow_requests"),
    ("POST", "/api/v1/follow_requests/{account_id}/authorize"),
    ("POST", "/api/v1/follow_requests/{account_id}/reject"),
    ("GET", "/api/v1/instance/activity"),
    ("GET", "/api/v1/instance/extended_description"),
    ("GET", "/api/v1/instance/peers"),
    ("GET", "/api/v1/instance/privacy_policy"),
    ("GET", "/api/v1/instance/rules"),
    ("GET", "/api/v1/instance/terms_of_service"),
    ("GET", "/api/v1/instance/translation_languages"),
    ("GET", "/api/v1/lists"),
    ("DELETE", "/api/v1/lists/{id}"),
    ("GET", "/api/v1/lists/{id}/accounts"),
    ("POST", "/api/v1/media"),
    ("GET", "/api/v1/media/{id}"),
    ("POST", "/api/v2/media"),
    ("GET", "/api/v1/mutes"),
    ("POST", "/api/v1/notifications/clear"),
    ("POST", "/api/v1/notifications/requests/{id}/accept"),
    ("POST", "/api/v1/notifications/requests/{id}/dismiss"),
    ("POST", "/api/v1/notifications/requests/accept"),
    ("GET", "/api/v1/notifications/requests/merged"),
    ("GET", "/api/v2/notifications/policy"),
    ("GET", "/api/v2/notifications/unread_count"),
    ("POST", "/oauth/revoke"),
    ("POST", "/oauth/token"),
    ("GET", "/oauth/userinfo"),
    ("GET", "/api/v1/polls/{id}"),
    ("GET", "/api/v1/preferences"),
    ("GET", "/api/v1/scheduled_statuses"),
    ("DELETE", "/api/v1/statuses/{id}"),
    ("POST", "/api/v1/statuses/{id}/bookmark"),
    ("POST", "/api/v1/statuses/{id}/favourite"),
    ("GET", "/api/v1/statuses/{id}/history"),
    ("POST", "/api/v1/statuses/{id}/mute"),
    ("POST", "/api/v1/statuses/{id}/pin"),
    ("GET", "/api/v1/statuses/{id}/reblogged_by"),
    ("GET", "/api/v1/statuses/{id}/source"),
    ("POST", "/api/v1/statuses/{id}/unbookmark"),
    ("POST", "/api/v1/statuses/{id}/unfavourite"),
    ("POST", "/api/v1/statuses/{id}/unmute"),
    ("POST", "/api/v1/statuses/{id}/unpin"),
    ("POST", "/api/v1/statuses/{id}/unreblog"),
    ("GET", "/api/v1/suggestions"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/api/v1/timelines/link"),
]
# Routed and described, but not fuzzed: a stream never ends; the authorize page is for a browser.
NOT_FUZZED = {("GET", "/oauth/authorize")}


# Where the description is wrong about Mastodon itself: GET /api/v1/filters answers a list of
# V1::Filter (as Mastodon does), the description a single one.
SPEC_MISTAKES = {("GET", "/api/v1/filters", 200)}


def _shape(path: str) -> str:
    """A path with its parameters unnamed: the description and the routes name them differently."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_described_operation_the_app_routes_is_fuzzed(app):
    described = {(method.upper(), _shape(path)) for path, operations in spec()["paths"].items()
                 for method in operations if method in ("get", "post", "put", "patch", "delete")}
    routed = {(method, _shape(route.path)) for route in app.routes if isinstance(route, Route)
              for method in (route.methods or ()) if method != "HEAD"}
    skipped = {(m, _shape(p)) for m, p in NOT_FUZZED} | {(m, p) for m, p in routed if p.startswith("/api/v1/streaming")}
    fuzzed = {(m, _shape(p)) for m, p in OPERATIONS}
    assert sorted((described & routed) - skipped - fuzzed) == []


def _cases(method: str, path: str, base_url: str) -> list[dict]:
    """Requests (httpx keyword arguments) for one operation, the same on every run."""
    operation = schemathesis.openapi.from_path(spec_path())[path][method]
    found: list[dict] = []

    @seed(SEED)
    @hypothesis_settings(max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def collect(case):
        found.append(case.as_transport_kwargs(base_url=base_url))

    collect()
    return found


def _request(kwargs: dict, headers: dict[str, str]) -> dict:
    """Schemathesis' requests-style arguments as httpx ones; headers httpx cannot send are dropped."""
    sent = {k: str(v) for k, v in kwargs.get("headers", {}).items()
            if str(v).isascii() and k.lower() not in ("connection", "accept-encoding")}
    request = {"method": kwargs["method"], "url": kwargs["url"], "params": kwargs.get("params") or None,
               "headers": {**sent, **headers}}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif "data" in kwargs:
        request["data"] = kwargs["data"]
    if "files" in kwargs:
        request["files"] = kwargs["files"]
    return request


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_generated_requests_never_crash_and_match_the_spec(client: httpx.AsyncClient, method: str, path: str):
    _, headers = await signed_in("fuzzer")
    await post_status(client, headers, status="something to act on")
    crashes, mismatches = [], []
    documented = spec()["paths"][path][method.lower()]["responses"]
    for kwargs in _cases(method, path, str(client.base_url).rstrip("/")):
        request = _request(kwargs, headers)
        try:
            response = await client.request(**request)
        except Exception as error:  # noqa: BLE001 - an uncaught exception is the crash we look for
            crashes.append((request, repr(error)))
            continue
        if response.status_code >= 500:
            crashes.append((request, f"{response.status_code} {response.text[:200]}"))
        elif str(response.status_code) in documented and (method, path, response.status_code) not in SPEC_MISTAKES:
            try:
                assert_matches_spec(response, method, path)
            except AssertionError as mismatch:
                mismatches.append((request, str(mismatch)[:300]))
    assert not crashes and not mismatches, "\n".join(f"{r['method']} {r['url']} {r.get('params')} {r.get('json') or r.get('data')}"
                                  f" -> {outcome}" for r, outcome in crashes + mismatches)
