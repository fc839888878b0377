"""Filters: v2 filters with keywords and statuses, the v1 one-keyword view of them, bad input
refused without writing anything, `filtered` on statuses where each context applies, and
`filters_changed` on the owner's user stream."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import event, update
from sqlmodel import select

from app import db
from app.api.entities.status import render_statuses
from app.models import CustomFilter, CustomFilterKeyword, CustomFilterStatus, Status
from app.services import filters, streaming
from app.services.feeds import store as feed_store
from tests.api.test_streaming import event_stream, frame, no_frame, socket, until_listening
from tests.support.openapi import assert_matches_spec, spec
from tests.support.polling import eventually, settled
from tests.support.world import count, follow, make_media, make_user, post_status, signed_in, token_for

V2 = "/api/v2/filters"
V1 = "/api/v1/filters"


async def make_filter(client, headers, **data) -> dict:
    body = {"title": "Spoilers", "context": ["home"], **data}
    response = await client.post(V2, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", V2)
    return response.json()


async def post(client, headers, text: str, **data) -> dict:
    response = await post_status(client, headers, status=text, **data)
    assert response.status_code == 200, response.text
    return response.json()


async def nothing_written() -> bool:
    return (await count(CustomFilter), await count(CustomFilterKeyword), await count(CustomFilterStatus)) == (0, 0, 0)


# -- v2 filters ------------------------------------------------------------------------------------

async def test_create_show_list_update_and_delete(client):
    alice, alice_h = await signed_in("alice")
    made = await make_filter(client, alice_h, filter_action="hide", expires_in=3600, keywords_attributes=[
        {"keyword": "finale", "whole_word": False}, {"keyword": "season five"}])
    assert made["title"] == "Spoilers" and made["context"] == ["home"] and made["filter_action"] == "hide"
    assert made["statuses"] == []
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [("finale", False), ("season five", True)]
    expires = datetime.fromisoformat(made["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(timezone.utc) <= timedelta(hours=1)
    assert made["expires_at"].endswith("Z") and len(made["expires_at"]) == 24

    shown = await client.get(f"{V2}/{made['id']}", headers=alice_h)
    assert_matches_spec(shown, "GET", "/api/v2/filters/{id}")
    assert shown.json() == made
    listed = await client.get(V2, headers=alice_h)
    assert_matches_spec(listed, "GET", V2)
    assert listed.json() == [made]

    finale, season = made["keywords"]
    updated = await client.put(f"{V2}/{made['id']}", json={
        "title": "TV", "context": ["home", "public", "home"], "filter_action": "warn", "expires_in": "",
        "keywords_attributes": [{"id": finale["id"], "_destroy": True},
                                {"id": season["id"], "keyword": "season six"},
                                {"keyword": "cliffhanger", "whole_word": "false"}]}, headers=alice_h)
    assert updated.status_code == 200, updated.text
    assert_matches_spec(updated, "PUT", "/api/v2/filters/{id}")
    body = updated.json()
    assert (body["title"], body["context"], body["filter_action"], body["expires_at"]) == (
        "TV", ["home", "public"], "warn", None)
    assert [(k["id"] == season["id"], k["keyword"], k["whole_word"]) for k in body["keywords"]] == [
        (True, "season six", True), (False, "cliffhanger", False)]

    deleted = await client.delete(f"{V2}/{made['id']}", headers=alice_h)
    assert_matches_spec(deleted, "DELETE", "/api/v2/filters/{id}")
    assert deleted.json() == {}
    assert (await client.get(f"{V2}/{made['id']}", headers=alice_h)).status_code == 404
    assert await nothing_written()  # keywords went with their filter


async def test_form_encoded_create_as_the_documentation_shows(client):
    _, alice_h = await signed_in("alice")
    # The documentation's own example: keywords_attributes[] as a Rails list of hashes.
    form = await client.post(f"{V2}?title=test&context[]=public&keywords_attributes[][keyword]=foo"
                             "&keywords_attributes[][whole_word]=false&keywords_attributes[][keyword]=bar"
                             "&keywords_attributes[][whole_word]=true", headers=alice_h)
    assert form.status_code == 200, form.text
    assert_matches_spec(form, "POST", V2)
    assert [(k["keyword"], k["whole_word"]) for k in form.json()["keywords"]] == [("foo", False), ("bar", True)]
    assert form.json()["filter_action"] == "warn"
    blurred = await client.post(V2, headers=alice_h, data={"title": "test", "context[]": ["public", "thread"],
                                                           "filter_action": "blur_media"})
    assert blurred.status_code == 200, blurred.text
    assert_matches_spec(blurred, "POST", V2)
    # The methods page says blur_media, the entity (and the OpenAPI file) blur: both are taken, blur is shown.
    assert (blurred.json()["filter_action"], blurred.json()["context"]) == ("blur", ["public", "thread"])


async def test_keywords_and_statuses_endpoints(client):
    alice, alice_h = await signed_in("alice")
    made = await make_filter(client, alice_h)
    keywords = f"{V2}/{made['id']}/keywords"
    added = await client.post(keywords, data={"keyword": "some", "whole_word": "false"}, headers=alice_h)
    assert_matches_spec(added, "POST", "/api/v2/filters/{filter_id}/keywords")
    assert added.json() == {"id": added.json()["id"], "keyword": "some", "whole_word": False}
    one = f"{V2}/keywords/{added.json()['id']}"
    assert (await client.get(one, headers=alice_h)).json() == added.json()
    assert_matches_spec(await client.get(one, headers=alice_h), "GET", "/api/v2/filters/keywords/{id}")
    changed = await client.put(one, json={"keyword": "other"}, headers=alice_h)
    assert_matches_spec(changed, "PUT", "/api/v2/filters/keywords/{id}")
    assert changed.json() == {**added.json(), "keyword": "other"}
    listed = await client.get(keywords, headers=alice_h)
    assert_matches_spec(listed, "GET", "/api/v2/filters/{filter_id}/keywords")
    assert listed.json() == [changed.json()]
    removed = await client.delete(one, headers=alice_h)
    assert removed.status_code == 200 and removed.json() == {}
    assert (await client.get(one, headers=alice_h)).status_code == 404

    status = await post(client, alice_h, "filter me")
    statuses = f"{V2}/{made['id']}/statuses"
    filtered = await client.post(statuses, json={"status_id": status["id"]}, headers=alice_h)
    assert_matches_spec(filtered, "POST", "/api/v2/filters/{filter_id}/statuses")
    assert filtered.json() == {"id": filtered.json()["id"], "status_id": status["id"]}
    row = f"{V2}/statuses/{filtered.json()['id']}"
    shown = await client.get(row, headers=alice_h)
    assert_matches_spec(shown, "GET", "/api/v2/filters/statuses/{id}")
    assert shown.json() == filtered.json()
    assert (await client.get(statuses, headers=alice_h)).json() == [filtered.json()]
    assert (await client.get(f"{V2}/{made['id']}", headers=alice_h)).json()["statuses"] == [filtered.json()]
    again = await client.post(statuses, json={"status_id": status["id"]}, headers=alice_h)
    assert again.status_code == 422 and "Status has already been taken" in again.json()["error"]
    assert (await client.delete(row, headers=alice_h)).json() == {}
    assert (await client.get(statuses, headers=alice_h)).json() == []


async def test_keywords_attributes_ids_must_belong_to_the_filter(client):
    _, alice_h = await signed_in("alice")
    first = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "one"}])
    second = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "two"}])
    foreign = second["keywords"][0]["id"]
    for attributes in ([{"id": foreign, "_destroy": True}], [{"id": foreign, "keyword": "mine"}],
                       [{"id": "nope", "keyword": "x"}], [{"id": "99999999999999999999", "_destroy": "1"}]):
        response = await client.put(f"{V2}/{first['id']}", json={"title": "changed", "keywords_attributes": attributes},
                                    headers=alice_h)
        assert response.status_code == 404, attributes
        assert response.json() == {"error": "Record not found"}
    # An id on create names nothing either; nothing is made.
    refused = await client.post(V2, json={"title": "x", "context": ["home"], "keywords_attributes": [{"id": foreign}]},
                                headers=alice_h)
    assert refused.status_code == 404
    assert [f["title"] for f in (await client.get(V2, headers=alice_h)).json()] == ["Spoilers", "Spoilers"]
    assert (await client.get(f"{V2}/{second['id']}", headers=alice_h)).json() == second
    # _destroy without an id just leaves that keyword out.
    made = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "kept"},
                                                                    {"keyword": "dropped", "_destroy": True}])
    assert [k["keyword"] for k in made["keywords"]] == ["kept"]
    # A keyword removed and then named again in the same request stays removed.
    kept = made["keywords"][0]["id"]
    twice = await client.put(f"{V2}/{made['id']}", json={"keywords_attributes": [
        {"id": kept, "_destroy": "true"}, {"id": kept, "keyword": "back"}]}, headers=alice_h)
    assert twice.status_code == 200 and twice.json()["keywords"] == []
    odd = await client.put(f"{V2}/{made['id']}", json={"keywords_attributes": [{"keyword": {"a": 1}}]},
                           headers=alice_h)
    assert odd.status_code == 422


async def test_someone_elses_filters_are_not_found(client):
    alice, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    theirs = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "x"}])
    status = await post(client, alice_h, "mine")
    row = (await client.post(f"{V2}/{theirs['id']}/statuses", json={"status_id": status["id"]},
                             headers=alice_h)).json()
    keyword_id = theirs["keywords"][0]["id"]
    base = f"{V2}/{theirs['id']}"
    for method, url, kwargs in (
            ("GET", base, {}), ("PUT", base, {"json": {"title": "mine"}}), ("DELETE", base, {}),
            ("GET", f"{base}/keywords", {}), ("POST", f"{base}/keywords", {"json": {"keyword": "y"}}),
            ("GET", f"{base}/statuses", {}), ("POST", f"{base}/statuses", {"json": {"status_id": status["id"]}}),
            ("GET", f"{V2}/keywords/{keyword_id}", {}),
            ("PUT", f"{V2}/keywords/{keyword_id}", {"json": {"keyword": "z"}}),
            ("DELETE", f"{V2}/keywords/{keyword_id}", {}),
            ("GET", f"{V2}/statuses/{row['id']}", {}), ("DELETE", f"{V2}/statuses/{row['id']}", {}),
            ("GET", f"{V1}/{keyword_id}", {}), ("PUT", f"{V1}/{keyword_id}", {"json": {"phrase": "z"}}),
            ("DELETE", f"{V1}/{keyword_id}", {}),
            ("GET", f"{V2}/not-a-number", {}), ("GET", f"{V2}/99999999999999999999", {}),
            ("GET", f"{V2}/keywords/-1", {}), ("DELETE", f"{V2}/statuses/1e5", {}), ("GET", f"{V1}/abc", {})):
        response = await client.request(method, url, headers=bob_h, **kwargs)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json() == {"error": "Record not found"}
    mine = await client.get(base, headers=alice_h)
    assert mine.json()["title"] == "Spoilers" and len(mine.json()["keywords"]) == 1
    assert len(mine.json()["statuses"]) == 1
    assert (await client.get(V2, headers=bob_h)).json() == []
    assert (await client.get(V1, headers=bob_h)).json() == []


async def test_scopes(client):
    alice, _ = await make_user("alice")
    reader = {"Authorization": f"Bearer {await token_for(alice, scopes='read:filters')}"}
    writer = {"Authorization": f"Bearer {await token_for(alice, scopes='write:filters')}"}
    assert (await client.get(V2, headers=reader)).status_code == 200
    assert (await client.post(V2, json={"title": "x", "context": ["home"]}, headers=reader)).status_code == 403
    assert (await client.get(V2, headers=writer)).status_code == 403
    assert (await client.post(V2, json={"title": "x", "context": ["home"]}, headers=writer)).status_code == 200
    assert (await client.get(V2)).status_code == 401
    assert (await client.get(V1)).status_code == 401


BAD_CREATES = [
    ({"title": "", "context": ["home"]}, "Title can't be blank"),
    ({"title": "   ", "context": ["home"]}, "Title can't be blank"),
    ({"context": ["home"]}, "Title can't be blank"),
    ({"title": "x" * 256, "context": ["home"]}, "Title is too long"),
    ({"title": "x"}, "Context can't be blank"),
    ({"title": "x", "context": []}, "Context can't be blank"),
    ({"title": "x", "context": ["home", "everywhere"]}, "Context None or invalid context supplied"),
    ({"title": "x", "context": "home"}, "Context"),
    ({"title": "x", "context": [{"home": 1}]}, "Context None or invalid context supplied"),
    ({"title": "x", "context": ["home"], "filter_action": "delete"}, "Filter action is not included"),
    ({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "", "whole_word": True}]},
     "Keywords keyword can't be blank"),
    ({"title": "x", "context": ["home"], "keywords_attributes": [{"whole_word": True}]}, "Keywords keyword"),
    ({"title": "x", "context": ["home"], "keywords_attributes": ["word"]}, "keywords_attributes"),
    ({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "a", "whole_word": "maybe"}]},
     "Whole word must be a boolean"),
    ({"title": "x", "context": ["home"], "expires_in": "soon"}, "Expires in"),
    ({"title": "x", "context": ["home"], "expires_in": -5}, "Expires in must be greater than 0"),
    ({"title": "x", "context": ["home"], "expires_in": 0}, "Expires in"),
    ({"title": "x", "context": ["home"], "expires_in": 1.5}, "Expires in"),
    ({"title": "x", "context": ["home"], "expires_in": "1_0"}, "Expires in must be a whole number of seconds"),
    ({"title": "x", "context": ["home"], "expires_in": "\u0661\u0660"}, "Expires in must be a whole number of seconds"),
    ({"title": ["x"], "context": ["home"]}, "Title"),
]


async def test_blank_keyword_items_and_context_entries_are_ignored(client):
    # Rails' reject_if: :all_blank, and Mastodon's dropping of blank context[] entries.
    _, alice_h = await signed_in("alice")
    made = await make_filter(client, alice_h, context=["home", ""], keywords_attributes=[
        {"keyword": "", "whole_word": ""}, {"keyword": "kept"}, {"keyword": "  "}])
    assert made["context"] == ["home"]
    assert [k["keyword"] for k in made["keywords"]] == ["kept"]


async def test_limits_per_account_refuse_and_write_nothing(client, monkeypatch):
    monkeypatch.setattr(filters, "MAX_FILTERS", 2)
    monkeypatch.setattr(filters, "MAX_KEYWORDS", 3)
    _, alice_h = await signed_in("alice")
    first = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "a"}, {"keyword": "b"}])
    await make_filter(client, alice_h, title="second")
    third = await client.post(V2, json={"title": "third", "context": ["home"]}, headers=alice_h)
    assert third.status_code == 422 and "Filters are too many" in third.json()["error"]
    too_many = await client.put(f"{V2}/{first['id']}", json={"keywords_attributes": [
        {"keyword": "c"}, {"keyword": "d"}]}, headers=alice_h)
    assert too_many.status_code == 422 and "Keywords are too many" in too_many.json()["error"]
    assert (await client.post(V1, json={"phrase": "e", "context": ["home"]}, headers=alice_h)).status_code == 422
    listed = (await client.get(V2, headers=alice_h)).json()
    assert sorted((f["title"], len(f["keywords"])) for f in listed) == sorted([("second", 0), (first["title"], 2)])
    added = await client.post(f"{V2}/{first['id']}/keywords", json={"keyword": "c"}, headers=alice_h)
    assert added.status_code == 200  # up to the limit is fine


@pytest.mark.parametrize("body, message", BAD_CREATES, ids=[str(b) for b, _ in BAD_CREATES])
async def test_bad_input_is_refused_and_writes_nothing(client, body, message):
    _, alice_h = await signed_in("alice")
    response = await client.post(V2, json=body, headers=alice_h)
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith(("Validation failed: ", "keywords_attributes")), response.json()
    assert message in response.json()["error"]
    assert_matches_spec(response, "POST", V2)
    assert await nothing_written()


async def test_bad_updates_change_nothing(client):
    _, alice_h = await signed_in("alice")
    made = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "kept"}])
    keyword = made["keywords"][0]
    url = f"{V2}/{made['id']}"
    for body in ({"title": ""}, {"context": []}, {"context": ["nowhere"]}, {"filter_action": "nuke"},
                 {"expires_in": "x"},
                 # a good change beside a bad one: neither is written
                 {"title": "renamed", "keywords_attributes": [{"id": keyword["id"], "_destroy": True},
                                                              {"keyword": " ", "whole_word": True}]},
                 {"keywords_attributes": [{"id": keyword["id"], "keyword": ""}]}):
        response = await client.put(url, json=body, headers=alice_h)
        assert response.status_code == 422, (body, response.text)
        assert_matches_spec(response, "PUT", "/api/v2/filters/{id}")
    for body in ({"keyword": ""}, {}):
        response = await client.post(f"{url}/keywords", json=body, headers=alice_h)
        assert response.status_code == 422 and response.json()["error"] == "Validation failed: Keyword can't be blank"
    assert (await client.put(f"{V2}/keywords/{keyword['id']}", json={"keyword": "  "},
                             headers=alice_h)).status_code == 422
    assert (await client.get(url, headers=alice_h)).json() == made


async def test_status_filters_need_a_status_the_owner_can_see(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    made = await make_filter(client, alice_h)
    private = await post(client, bob_h, "followers only", visibility="private")
    url = f"{V2}/{made['id']}/statuses"
    for status_id in ("12345", "abc", "", None, "99999999999999999999", ["1"], private["id"]):
        response = await client.post(url, json={"status_id": status_id}, headers=alice_h)
        assert response.status_code == 422, (status_id, response.text)
        assert response.json()["error"] == "Validation failed: Status must exist"
    assert (await client.post(url, json={}, headers=alice_h)).status_code == 422
    assert await count(CustomFilterStatus) == 0


# -- v1 ----------------------------------------------------------------------------------------------

async def test_v1_create_read_update_delete_and_v2_views(client):
    _, alice_h = await signed_in("alice")
    created = await client.post(V1, json={"phrase": "eurovision", "context": ["home", "public"],
                                          "irreversible": True, "expires_in": 600}, headers=alice_h)
    assert created.status_code == 200, created.text
    assert_matches_spec(created, "POST", V1)
    v1 = created.json()
    assert (v1["phrase"], v1["context"], v1["whole_word"], v1["irreversible"]) == (
        "eurovision", ["home", "public"], False, True)
    assert v1["expires_at"] is not None

    groups = (await client.get(V2, headers=alice_h)).json()
    assert len(groups) == 1
    assert (groups[0]["title"], groups[0]["filter_action"]) == ("eurovision", "hide")
    assert groups[0]["keywords"] == [{"id": v1["id"], "keyword": "eurovision", "whole_word": False}]

    shown = await client.get(f"{V1}/{v1['id']}", headers=alice_h)
    assert_matches_spec(shown, "GET", "/api/v1/filters/{id}")
    assert shown.json() == v1
    listed = await client.get(V1, headers=alice_h)  # an array, as Mastodon's docs say (the spec file says one)
    assert listed.json() == [v1]

    updated = await client.put(f"{V1}/{v1['id']}", json={"phrase": "song contest", "context": ["thread"],
                                                         "irreversible": False, "whole_word": True,
                                                         "expires_in": ""}, headers=alice_h)
    assert updated.status_code == 200, updated.text
    assert_matches_spec(updated, "PUT", "/api/v1/filters/{id}")
    assert updated.json() == {"id": v1["id"], "phrase": "song contest", "context": ["thread"], "whole_word": True,
                              "expires_at": None, "irreversible": False}
    group = (await client.get(V2, headers=alice_h)).json()[0]
    assert (group["title"], group["context"], group["filter_action"]) == ("song contest", ["thread"], "warn")

    for bad in ({"phrase": ""}, {"context": []}, {"context": ["elsewhere"]}, {"irreversible": "perhaps"}):
        assert (await client.put(f"{V1}/{v1['id']}", json=bad, headers=alice_h)).status_code == 422, bad
    for bad in ({"context": ["home"]}, {"phrase": "x", "context": []}, {"phrase": "x"}):
        response = await client.post(V1, json=bad, headers=alice_h)
        assert response.status_code == 422, bad
    assert (await client.post(V1, json={"phrase": "", "context": ["home"]}, headers=alice_h)).json()["error"] == \
        "Validation failed: Phrase can't be blank"

    deleted = await client.delete(f"{V1}/{v1['id']}", headers=alice_h)
    assert_matches_spec(deleted, "DELETE", "/api/v1/filters/{id}")
    assert deleted.json() == {}
    assert (await client.get(V1, headers=alice_h)).json() == []
    # Mastodon's v1 delete removes the keyword only; the filter stays for v2 to delete.
    assert [g["keywords"] for g in (await client.get(V2, headers=alice_h)).json()] == [[]]


async def test_v2_keywords_show_up_in_v1(client):
    _, alice_h = await signed_in("alice")
    made = await make_filter(client, alice_h, context=["home", "notifications"], filter_action="hide",
                             keywords_attributes=[{"keyword": "one"}, {"keyword": "two", "whole_word": False}])
    listed = (await client.get(V1, headers=alice_h)).json()
    assert [(f["id"], f["phrase"], f["whole_word"], f["irreversible"], f["context"]) for f in listed] == [
        (made["keywords"][0]["id"], "one", True, True, ["home", "notifications"]),
        (made["keywords"][1]["id"], "two", False, True, ["home", "notifications"])]
    first = made["keywords"][0]["id"]
    # The phrase of one keyword may change; the shared context may not, from here.
    assert (await client.put(f"{V1}/{first}", json={"phrase": "uno"}, headers=alice_h)).json()["phrase"] == "uno"
    refused = await client.put(f"{V1}/{first}", json={"context": ["public"]}, headers=alice_h)
    assert refused.status_code == 422 and "other keywords" in refused.json()["error"]
    same = await client.put(f"{V1}/{first}", json={"phrase": "uno", "context": ["home", "notifications"],
                                                   "irreversible": True}, headers=alice_h)
    assert same.status_code == 200  # sending the current values back is no change
    assert (await client.get(f"{V2}/{made['id']}", headers=alice_h)).json()["context"] == ["home", "notifications"]


# -- applying filters ----------------------------------------------------------------------------------

def filtered_titles(status: dict) -> list[str]:
    return [r["filter"]["title"] for r in status["filtered"]]


async def home_of(client, headers, until_count: int) -> list[dict]:
    async def probe():
        return (await client.get("/api/v1/timelines/home", headers=headers)).json()
    return await eventually(probe, until=lambda items: len(items) >= until_count)


async def test_keyword_matching_on_home(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    made = await make_filter(client, alice_h, title="Cats", keywords_attributes=[
        {"keyword": "cat", "whole_word": True}, {"keyword": "DOG", "whole_word": False}])
    expected = {  # keyword_matches: the text that matched, each once, as Mastodon lists it
        "I have a cat": [["cat"]],
        "concatenate strings": [],  # whole word only
        "hotdogs for lunch": [["dog"]],  # substring, case-insensitive
        "CAT and dog pictures": [["CAT", "dog"]],
        "nothing here": [],
        "a #cat tag": [["cat"]],
        "cat\non two lines": [["cat"]],
        "cat, Cat, cat": [["cat", "Cat"]],
    }
    posted = {(await post(client, bob_h, text))["id"]: text for text in expected}
    warned = (await post(client, bob_h, "hidden behind", spoiler_text="cat content"))["id"]
    items = await home_of(client, alice_h, len(expected) + 1)
    results = {posted.get(i["id"], i["id"]): [r["keyword_matches"] for r in i["filtered"]] for i in items}
    assert results == {**expected, warned: [["cat"]]}
    result = next(i for i in items if posted.get(i["id"]) == "I have a cat")["filtered"][0]
    assert result == {"filter": {"id": made["id"], "title": "Cats", "context": ["home"], "expires_at": None,
                                 "filter_action": "warn"},
                      "keyword_matches": ["cat"], "status_matches": None}
    for item in items:
        assert_status_valid(item)


def assert_status_valid(item: dict) -> None:
    """Status JSON (with `filtered`) as the OpenAPI description defines it."""
    validator = Draft202012Validator({**spec()["components"]["schemas"]["Status"], "components": spec()["components"]})
    errors = [e.message[:200] for e in validator.iter_errors(item)]
    assert not errors, errors


async def test_text_sources_media_descriptions_and_poll_options(client):
    alice, alice_h = await signed_in("alice")
    await make_filter(client, alice_h, context=["account"], keywords_attributes=[{"keyword": "pineapple"}])
    media = await make_media(alice, description="a PINEAPPLE on a table")
    await post(client, alice_h, "look", media_ids=[str(media.id)])
    await post(client, alice_h, "vote", poll={"options": ["pineapple", "pear"], "expires_in": 3600})
    await post(client, alice_h, "line one\nPineapple line two")
    await post(client, alice_h, "pineapples are plural")  # not the whole word
    items = (await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=alice_h)).json()
    assert [bool(i["filtered"]) for i in items] == [False, True, True, True]


async def test_every_view_carries_all_matches_with_their_contexts(client):
    # As Mastodon: a status carries every unexpired filter it trips, whatever the view, and apps
    # act on those whose context is where they show it (they keep one copy of a status by id).
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    lists = await client.post("/api/v1/lists", json={"title": "Bob"}, headers=alice_h)
    await client.post(f"/api/v1/lists/{lists.json()['id']}/accounts", json={"account_ids": [str(bob.id)]},
                      headers=alice_h)
    for context in ("home", "public", "thread", "account", "notifications"):
        await make_filter(client, alice_h, title=context, context=[context],
                          keywords_attributes=[{"keyword": "trigger"}])
    root = await post(client, bob_h, "trigger warning #topic @alice")
    reply = await post(client, bob_h, "another trigger", in_reply_to_id=root["id"])
    await client.post(f"/api/v1/statuses/{root['id']}/bookmark", headers=alice_h)
    await client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=alice_h)
    await settled()
    every = {("account", "home", "notifications", "public", "thread")}

    def titles(items):
        return {tuple(sorted(filtered_titles(i))) for i in items}

    assert titles(await home_of(client, alice_h, 2)) == every
    listed = (await client.get(f"/api/v1/timelines/list/{lists.json()['id']}", headers=alice_h)).json()
    assert len(listed) == 2 and titles(listed) == every
    public = (await client.get("/api/v1/timelines/public", headers=alice_h)).json()
    assert len(public) >= 1 and titles(public) == every
    tag = (await client.get("/api/v1/timelines/tag/topic", headers=alice_h)).json()
    assert len(tag) == 1 and titles(tag) == every
    shown = (await client.get(f"/api/v1/statuses/{root['id']}", headers=alice_h)).json()
    assert titles([shown]) == every
    context = (await client.get(f"/api/v1/statuses/{reply['id']}/context", headers=alice_h)).json()
    assert titles(context["ancestors"]) == every
    profile = (await client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=alice_h)).json()
    assert len(profile) == 2 and titles(profile) == every
    for path in ("/api/v1/bookmarks", "/api/v1/favourites"):
        assert titles((await client.get(path, headers=alice_h)).json()) == every
    [matched] = [r for r in shown["filtered"] if r["filter"]["title"] == "home"]
    assert matched["filter"]["context"] == ["home"] and matched["keyword_matches"] == ["trigger"]
    notifications = await eventually(
        lambda: notifications_of(client, alice_h), until=lambda items: any(n["type"] == "mention" for n in items))
    mention = next(n for n in notifications if n["type"] == "mention")
    assert titles([mention["status"]]) == every
    grouped = (await client.get("/api/v2/notifications", headers=alice_h)).json()
    assert titles(grouped["statuses"]) == every

    # Anonymous readers get no `filtered`; another signed-in user gets theirs (none here), not alice's.
    assert all("filtered" not in s for s in (await client.get("/api/v1/timelines/public")).json())
    _, carol_h = await signed_in("carol")
    carol_view = (await client.get("/api/v1/timelines/public", headers=carol_h)).json()
    assert carol_view and all(s["filtered"] == [] for s in carol_view)


async def notifications_of(client, headers) -> list[dict]:
    return (await client.get("/api/v1/notifications", headers=headers)).json()


async def test_boosts_status_filters_and_expiry(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    await follow(alice, bob)
    original = await post(client, carol_h, "spoiler: the butler did it")
    boost = await client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=bob_h)
    assert boost.status_code == 200
    plain = await post(client, carol_h, "an unremarkable post")
    await make_filter(client, alice_h, title="Keyword", context=["home", "thread"],
                      keywords_attributes=[{"keyword": "butler"}])
    by_status = await make_filter(client, alice_h, title="By status", context=["thread", "home"],
                                  filter_action="hide")
    assert (await client.post(f"{V2}/{by_status['id']}/statuses", json={"status_id": original["id"]},
                              headers=alice_h)).status_code == 200
    assert (await client.post(f"{V2}/{by_status['id']}/statuses", json={"status_id": plain["id"]},
                              headers=alice_h)).status_code == 200
    expired = await make_filter(client, alice_h, title="Expired", context=["thread"],
                                keywords_attributes=[{"keyword": "unremarkable"}])
    async with db.session() as session:
        await session.execute(update(CustomFilter).where(CustomFilter.id == int(expired["id"])).values(
            expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))

    items = await home_of(client, alice_h, 1)
    wrapper = next(i for i in items if i["reblog"] is not None)
    results = {r["filter"]["title"]: r for r in wrapper["filtered"]}
    assert results["Keyword"]["keyword_matches"] == ["butler"]
    assert results["By status"]["status_matches"] == [original["id"]]
    assert results["By status"]["filter"]["filter_action"] == "hide"
    assert {r["filter"]["title"] for r in wrapper["reblog"]["filtered"]} == {"Keyword", "By status"}
    assert_status_valid(wrapper)

    shown = (await client.get(f"/api/v1/statuses/{plain['id']}", headers=alice_h)).json()
    assert [(r["filter"]["title"], r["keyword_matches"], r["status_matches"]) for r in shown["filtered"]] == [
        ("By status", None, [plain["id"]])]  # the expired filter's keyword matched, but it no longer applies
    # Others' filters never apply to bob; bob's own home has no filter of his.
    bob_view = (await client.get(f"/api/v1/statuses/{original['id']}", headers=bob_h)).json()
    assert bob_view["filtered"] == []


async def round_trips_to_render(monkeypatch, viewer) -> int:
    """Database round trips of one render_statuses call: statements through SQLAlchemy, plus the
    renderer's own db.rows / db.rows_together calls (each one round trip, however many statements)."""
    trips = []

    def counted(function):
        async def wrapper(*args, **kwargs):
            trips.append(function.__name__)
            return await function(*args, **kwargs)
        return wrapper

    def statement(*args):
        trips.append("statement")

    engine = db.engine().sync_engine
    with monkeypatch.context() as patch:
        patch.setattr(db, "rows", counted(db.rows))
        patch.setattr(db, "rows_together", counted(db.rows_together))
        event.listen(engine, "before_cursor_execute", statement)
        try:
            async with db.reading() as session:
                found = list((await session.exec(select(Status).order_by(Status.id))).all())
                trips.clear()
                rendered = await render_statuses(session, found, viewer)
        finally:
            event.remove(engine, "before_cursor_execute", statement)
    assert rendered and all(("filtered" in item) == (viewer is not None) for item in rendered)
    return len(trips)


async def test_filters_cost_no_extra_round_trip(client, monkeypatch):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    original = await post(client, bob_h, "a post with a poll", poll={"options": ["a", "b"], "expires_in": 600})
    await client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=alice_h)
    await post(client, alice_h, "my own post")
    await settled()
    await round_trips_to_render(monkeypatch, alice)  # fills the render cache
    without = await round_trips_to_render(monkeypatch, alice)  # no filters at all
    made = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "poll"}])
    await client.post(f"{V2}/{made['id']}/statuses", json={"status_id": original["id"]}, headers=alice_h)
    assert await round_trips_to_render(monkeypatch, alice) == without  # filters read in the same trip


# -- streaming ---------------------------------------------------------------------------------------

async def test_changes_announce_filters_changed_on_the_user_stream(client, live_server):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    token = alice_h["Authorization"].split(" ", 1)[1]
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        made = await make_filter(client, alice_h, keywords_attributes=[{"keyword": "a"}])
        assert await frame(ws) == {"stream": ["user"], "event": "filters_changed"}
        await make_filter(client, bob_h)  # someone else's change: not here
        await no_frame(ws, 0.5)
        keyword = made["keywords"][0]["id"]
        status = await post(client, alice_h, "x")
        for method, url, body in (
                ("PUT", f"{V2}/{made['id']}", {"title": "B"}),
                ("POST", f"{V2}/{made['id']}/keywords", {"keyword": "b"}),
                ("PUT", f"{V2}/keywords/{keyword}", {"keyword": "c"}),
                ("POST", f"{V2}/{made['id']}/statuses", {"status_id": status["id"]}),
                ("DELETE", f"{V2}/keywords/{keyword}", None),
                ("POST", V1, {"phrase": "p", "context": ["home"]}),
                ("DELETE", f"{V2}/{made['id']}", None)):
            response = await client.request(method, url, json=body, headers=alice_h)
            assert response.status_code == 200, (method, url, response.text)
            assert (await frame(ws))["event"] == "filters_changed", (method, url)
        # A refused change announces nothing.
        assert (await client.post(V2, json={"title": ""}, headers=alice_h)).status_code == 422
        await no_frame(ws, 0.5)


async def test_filters_changed_over_server_sent_events(client, live_server):
    alice, alice_h = await signed_in("alice")
    async with httpx.AsyncClient(base_url=live_server, timeout=5) as http:
        async with event_stream(http, "/api/v1/streaming/user", headers=alice_h) as (response, sse):
            assert response.status_code == 200
            await sse.until_listening(streaming.user_channel(alice.id))
            await make_filter(client, alice_h)
            assert await sse.events(1) == [("filters_changed", "undefined")]


async def test_streamed_notifications_carry_the_receivers_matches(client, live_server):
    alice, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    await make_filter(client, alice_h, title="Mentions", context=["notifications"],
                      keywords_attributes=[{"keyword": "spoiler"}])
    token = alice_h["Authorization"].split(" ", 1)[1]
    async with socket(live_server, token, "stream=user:notification") as ws:
        await until_listening(ws, streaming.notifications_channel(alice.id))
        await post(client, bob_h, "@alice spoiler ahead")
        event = await frame(ws)
        assert event["event"] == "notification"
        status = json.loads(event["payload"])["status"]
        assert [(r["filter"]["title"], r["keyword_matches"]) for r in status["filtered"]] == [
            ("Mentions", ["spoiler"])]


async def test_a_followed_post_on_the_home_stream_carries_the_receivers_matches(client, live_server):
    # A new post is rendered once for all home streams, but a receiver with filters gets it
    # rendered for them, as Mastodon's streaming server matches filters for each listener.
    alice, alice_h = await signed_in("alice")
    carol, carol_h = await signed_in("carol")
    bob, bob_h = await signed_in("bob")
    for reader in (alice, carol):
        await follow(reader, bob)
    made = await make_filter(client, alice_h, title="Cats", keywords_attributes=[{"keyword": "cat"}])
    for headers, reader in ((alice_h, alice), (carol_h, carol)):  # live feeds, so posts are pushed
        await client.get("/api/v1/timelines/home", headers=headers)
        await eventually(lambda: feed_store.floor_of(reader.id), until=lambda floor: floor is not None)
    tokens = [h["Authorization"].split(" ", 1)[1] for h in (alice_h, carol_h)]
    async with socket(live_server, tokens[0], "stream=user") as alice_ws, \
            socket(live_server, tokens[1], "stream=user") as carol_ws:
        await until_listening(alice_ws, streaming.user_channel(alice.id))
        await until_listening(carol_ws, streaming.user_channel(carol.id))
        posted = await post(client, bob_h, "a Cat on the stairs")
        for_alice = json.loads((await frame(alice_ws))["payload"])
        for_carol = json.loads((await frame(carol_ws))["payload"])
    assert for_alice["id"] == for_carol["id"] == posted["id"]
    [result] = for_alice["filtered"]
    assert result["filter"]["id"] == made["id"] and result["keyword_matches"] == ["Cat"]
    assert for_carol["filtered"] == []  # no filters: the rendering shared by all, tripping none
