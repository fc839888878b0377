"""Fetching a remote object so that it can be trusted to be what it says it is.

    document = await fetch_object(http, url)               # the object, as served at its own id
    document = await canonical(http, url, document)        # same, for a document already fetched
    jrd = await webfinger(http, Acct("alice", "example.com"))

A document counts only as served at its own `id`: when the URL it came from (after any
redirects) was another address of it (a profile page, an old URL), the `id` must be on the
same server, and the document is fetched again from there, must be served at exactly that
address (no redirect away) and must still name itself so. Comparing with the URL asked for
instead would let an open redirect on another server vouch for a forged document.
"""
from __future__ import annotations

from activitypub.vocabulary import host_of, id_of, is_http_url
from activitypub.webfinger import JRD, Acct, parse_jrd, query_url
from federation.http import JRD_ACCEPT, FetchSession


class DereferenceError(Exception):
    """A remote object is not what it claims to be, or not what was asked for."""


class Mismatch(DereferenceError):
    pass


class NotRemote(DereferenceError):
    """The address is on this server: look it up locally, never over the network."""


async def fetch_object(http: FetchSession, url: str) -> dict:
    served_at, document = await http.get_json(url)
    return await canonical(http, served_at, document)


async def canonical(http: FetchSession, served_at: str, document: dict) -> dict:
    """`document` as served at its own id; `served_at` is the URL it came from, after redirects."""
    object_id = id_of(document.get("id"))
    if object_id == served_at:
        return document
    if not is_http_url(object_id) or host_of(object_id) != host_of(served_at):
        raise Mismatch(f"the document at {served_at[:200]} claims an id on another server")
    again_at, again = await http.get_json(object_id)
    if again_at != object_id or id_of(again.get("id")) != object_id:
        raise Mismatch(f"the document at {object_id[:200]} does not name itself")
    return again


async def webfinger(http: FetchSession, acct: Acct, scheme: str = "https") -> JRD:
    _, document = await http.get_json(query_url(acct, scheme), accept=JRD_ACCEPT, signed=False)
    return parse_jrd(document)
