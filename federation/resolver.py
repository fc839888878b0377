"""Federation's side of search resolving (app.services.search.resolve.Resolver).

    resolver = build_resolver(settings)                        # app/main.py installs it
    resolver = build_resolver(settings, transport=mock, resolve_host=fake_dns)   # tests

A URL may be an account or a post: the answer's `type` decides. An HTML page (a browser
URL) is followed once to the ActivityPub document its `<link rel="alternate">` names.
Documented failures (fetching, parsing, identity checks, storing) mean "nothing found".
"""
from __future__ import annotations

import asyncio
import logging

from activitypub.actors import ACTOR_TYPES
from activitypub.discovery import alternate_link
from activitypub.notes import STATUS_TYPES
from activitypub.vocabulary import ParseError, type_of
from activitypub.webfinger import WebFingerError, parse_acct
from app.config import Settings
from app.services import instance_actor
from app.services.remote_accounts import ConflictingAccount
from app.services.remote_statuses import Unstorable
from app.services.search.resolve import Found
from federation.dereference.accounts import AccountDereferencer
from federation.dereference.objects import DereferenceError
from federation.dereference.statuses import StatusDereferencer
from federation.http import FederationClient, FetchError, Key, client_for, parse_json

log = logging.getLogger("starling.federation")
# What a look-up may meet from a remote server; each means "nothing found" (TimeoutError: the deadline).
EXPECTED = (FetchError, ParseError, WebFingerError, DereferenceError, ConflictingAccount, Unstorable, TimeoutError)


async def _instance_key() -> Key:
    key = await instance_actor.signing_key()
    return Key(key.key_id, key.private_key_pem)


def build_client(settings: Settings, **options) -> FederationClient:
    """The signed client every fetch uses (signing as the instance actor), on the configured
    network unless `transport`/`resolve_host` say otherwise (federation.http.client_for)."""
    return client_for(settings, signer=_instance_key, **options)


class FederationResolver:
    def __init__(self, client: FederationClient, local_domain: str, webfinger_scheme: str = "https",
                 deadline: float = 30.0):
        self.client = client
        self.deadline = deadline  # seconds for a whole look-up (WebFinger, actor, post: several requests)
        self.accounts = AccountDereferencer(client, local_domain, webfinger_scheme)
        self.statuses = StatusDereferencer(self.accounts)

    async def resolve_account(self, username: str, domain: str) -> Found | None:
        try:
            acct = parse_acct(f"{username}@{domain}")
            async with asyncio.timeout(self.deadline):
                return Found("account", (await self.accounts.by_acct(acct)).id)
        except EXPECTED as error:
            log.info("could not resolve %s@%s: %s", username, domain, error)
            return None

    async def resolve_url(self, url: str) -> Found | None:
        try:
            async with asyncio.timeout(self.deadline):
                return await self._resolve_url(url)
        except EXPECTED as error:
            log.info("could not resolve %s: %s", url[:200], error)
            return None

    async def _resolve_url(self, url: str) -> Found | None:
        async with self.client.session() as http:
            fetched = await http.get(url)
            if fetched.content_type in ("text/html", "application/xhtml+xml"):
                href = alternate_link(fetched.body, fetched.url)
                if href is None:
                    return None
                url, fetched = href, await http.get(href)
            document = parse_json(fetched.body, fetched.url)
            kinds = type_of(document)
            # Identity is checked against where the document came from (after redirects).
            if kinds & set(ACTOR_TYPES):
                profile = await self.accounts.profile_at(http, fetched.url, document)
            elif kinds & set(STATUS_TYPES):
                return Found("status", (await self.statuses.from_document(http, fetched.url, document)).id)
            else:
                return None
        return Found("account", (await self.accounts.store(profile)).id)


def build_resolver(settings: Settings, *, deadline: float = 30.0, **client_options) -> FederationResolver:
    # WebFinger is asked over the scheme we serve: https in production, http for instances
    # federating on one machine in development (as Mastodon does in its development mode).
    return FederationResolver(build_client(settings, **client_options), settings.domain,
                              webfinger_scheme=settings.scheme, deadline=deadline)
