"""A remote Mastodon server for tests: an httpx.MockTransport answering for https://remote.example.

    server = RemoteMastodon(client)            # `client`: the test app's httpx client
    server.add_actor("alice", name="Alice")     # WebFinger + actor document
    server.add_note("alice", 1, to=[PUBLIC])    # a Note at its id and at its /@alice/1 URL
    server.routes["/users/x"] = lambda request: httpx.Response(500)   # anything else

It runs in "authorized fetch" mode, as many Mastodon servers do: an ActivityPub GET must
carry an HTTP signature, which is checked against the key the signer's `keyId` points to,
fetched from our test app (so /actor must publish it). Unsigned or badly signed GETs get a
401. WebFinger needs no signature. `dns` is the name resolver handed to the client, so the
private-address check runs for real on made-up names.
"""
from __future__ import annotations

import socket
from typing import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from activitypub.signatures import SignatureError, key_id_of, verify_request
from activitypub.vocabulary import PUBLIC
from app.security import generate_key_pair

HOST = "remote.example"
BASE = f"https://{HOST}"
ADDRESSES = {HOST: ["93.184.216.34"], "evil.example": ["93.184.216.35"], "private.example": ["10.0.0.7"],
             "rebound.example": ["93.184.216.36", "127.0.0.1"], "metadata.example": ["169.254.169.254"]}

Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


REMOTE_KEY = generate_key_pair()[1]  # the remote actors' key (we never verify their signatures here)


class RemoteMastodon:
    def __init__(self, local_client: httpx.AsyncClient):
        self.local = local_client
        self.routes: dict[str, Handler] = {}
        self.webfinger: dict[str, dict | Handler] = {}
        self.requests: list[httpx.Request] = []
        self.verified_key_ids: list[str] = []

    # -- what the server holds ---------------------------------------------------------------

    def actor_document(self, username: str, **changes) -> dict:
        uri = f"{BASE}/users/{username}"
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": uri, "type": "Person", "preferredUsername": username, "name": username.title(),
            "summary": f"<p>I am {username}<script>alert(1)</script></p>", "url": f"{BASE}/@{username}",
            "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox", "followers": f"{uri}/followers",
            "following": f"{uri}/following", "endpoints": {"sharedInbox": f"{BASE}/inbox"},
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": REMOTE_KEY},
            "icon": {"type": "Image", "mediaType": "image/png", "url": f"{BASE}/avatars/{username}.png"},
            "manuallyApprovesFollowers": False, "discoverable": True, "indexable": True,
            "published": "2023-01-01T00:00:00Z",
        }
        document.update(changes)
        return document

    def jrd(self, username: str, href: str | None = None) -> dict:
        return {"subject": f"acct:{username}@{HOST}", "aliases": [f"{BASE}/@{username}"],
                "links": [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                           "href": f"{BASE}/@{username}"},
                          {"rel": "self", "type": "application/activity+json",
                           "href": href or f"{BASE}/users/{username}"}]}

    def add_actor(self, username: str, **changes) -> dict:
        document = self.actor_document(username, **changes)
        self.webfinger[f"acct:{username}@{HOST}"] = self.jrd(username)
        self.routes[f"/users/{username}"] = self.activity(document)
        return document

    def add_note(self, username: str, number: int, **changes) -> dict:
        uri = f"{BASE}/users/{username}/statuses/{number}"
        document = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": uri, "type": "Note", "attributedTo": f"{BASE}/users/{username}",
            "content": f"<p>Note {number} from {username} <img src=x onerror=alert(1)></p>",
            "published": "2024-05-01T12:00:00Z", "url": f"{BASE}/@{username}/{number}",
            "to": [PUBLIC], "cc": [f"{BASE}/users/{username}/followers"], "sensitive": False,
            "tag": [{"type": "Hashtag", "name": "#fediverse", "href": f"{BASE}/tags/fediverse"}],
        }
        document.update(changes)
        self.routes[f"/users/{username}/statuses/{number}"] = self.activity(document)
        self.routes[f"/@{username}/{number}"] = self.activity(document)  # its browser URL, same document
        return document

    @staticmethod
    def activity(document: dict) -> Handler:
        return lambda request: httpx.Response(200, json=document,
                                              headers={"Content-Type": "application/activity+json"})

    # -- the network ---------------------------------------------------------------------------

    async def dns(self, host: str, port: int) -> list[str]:
        if host not in ADDRESSES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return ADDRESSES[host]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/webfinger":
            resource = parse_qs(urlsplit(str(request.url)).query).get("resource", [""])[0]
            found = self.webfinger.get(resource)
            if found is None:
                return httpx.Response(404)
            if callable(found):
                return await _call(found, request)
            return httpx.Response(200, json=found, headers={"Content-Type": "application/jrd+json"})
        handler = self.routes.get(path)
        if handler is None:
            return httpx.Response(404, json={"error": "Record not found"})
        if "activity+json" in request.headers.get("accept", ""):
            refusal = await self._check_signature(request)
            if refusal is not None:
                return refusal
        return await _call(handler, request)

    async def _check_signature(self, request: httpx.Request) -> httpx.Response | None:
        """Authorized fetch: verify against the key our test app publishes at the keyId."""
        try:
            key_id = key_id_of(request.headers)
            actor = await self.local.get(urlsplit(key_id).path, headers={"Accept": "application/activity+json"})
            document = actor.json()
            if document["publicKey"]["id"] != key_id:
                return httpx.Response(401, json={"error": "unknown key"})
            path = request.url.raw_path.decode()
            verify_request(request.method, path, request.headers, document["publicKey"]["publicKeyPem"])
        except (SignatureError, KeyError, ValueError):
            return httpx.Response(401, json={"error": "Request not signed"})
        self.verified_key_ids.append(key_id)
        return None

    def hits(self, host: str = HOST) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == host]


async def _call(handler: Handler, request: httpx.Request) -> httpx.Response:
    result = handler(request)
    if isinstance(result, Awaitable):
        result = await result
    return result
