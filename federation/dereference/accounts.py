"""Remote accounts: `user@domain` or an actor URL -> a stored Account.

    accounts = AccountDereferencer(client, local_domain="social.example")
    account = await accounts.by_acct(Acct("alice", "remote.example"))
    account = await accounts.by_url("https://remote.example/users/alice")

By name: WebFinger gives the actor's URL, the actor document is fetched (a signed GET) and
must be served at its own id on that URL's server. Either way the name is then confirmed
starting from the actor's own server (WebFinger for `preferredUsername@<the id's host>`
must point back at the actor), never from the domain that was asked: any server can answer
WebFinger with another server's actor. When the confirmed subject names another domain (an
account `alice@example.com` served from `social.example.com`), that domain must agree too.
An account fetched less than a day ago is returned without asking again; an older one is
fetched again, and kept as it was when that fails.
"""
from __future__ import annotations

from activitypub.actors import Actor, parse_actor
from activitypub.vocabulary import host_of
from activitypub.webfinger import JRD, Acct, parse_acct
from app import db
from app.models import Account
from app.services import remote_accounts
from app.services.remote_accounts import RemoteProfile
from federation.dereference.objects import Mismatch, NotRemote, canonical, fetch_object, webfinger
from federation.http import FederationClient, FetchError, FetchSession

# Failing to refresh a known account keeps the stored one (WebFinger and parse errors are ValueErrors).
REFRESH_FAILURES = (FetchError, ValueError, Mismatch)


class AccountDereferencer:
    def __init__(self, client: FederationClient, local_domain: str, webfinger_scheme: str = "https"):
        self.client = client
        self.local_domain = local_domain.lower()
        self.scheme = webfinger_scheme

    def _check_remote(self, domain: str) -> None:
        if domain.lower() == self.local_domain:
            raise NotRemote(f"{domain} is this server")

    async def by_acct(self, acct: Acct) -> Account:
        self._check_remote(acct.domain)
        async with db.session() as session:
            known = await remote_accounts.find_by_acct(session, acct.username, acct.domain)
        if known is not None and not remote_accounts.is_stale(known):
            return known
        try:
            async with self.client.session() as http:
                jrd = await webfinger(http, acct, self.scheme)
                self._check_remote(host_of(jrd.self_href))
                actor = parse_actor(await fetch_object(http, jrd.self_href))
                confirmed = await self._confirmed_acct(http, actor, jrd, acct)
        except REFRESH_FAILURES:
            if known is not None:  # the server is away or confused: what we knew still stands
                return known
            raise
        return await self.store(profile_of(actor, confirmed))

    async def by_url(self, url: str) -> Account:
        self._check_remote(host_of(url))
        async with db.session() as session:
            known = await remote_accounts.find_by_uri(session, url)
        if known is not None and not remote_accounts.is_stale(known):
            return known
        try:
            async with self.client.session() as http:
                profile = await self.profile_at(http, url)
        except REFRESH_FAILURES:
            if known is not None:
                return known
            raise
        return await self.store(profile)

    async def profile_at(self, http: FetchSession, url: str, document: dict | None = None) -> RemoteProfile:
        """The network half of `by_url` (for callers that store more in the same transaction);
        `document` is what `url` already answered, if it was fetched."""
        self._check_remote(host_of(url))
        document = await (canonical(http, url, document) if document is not None else fetch_object(http, url))
        actor = parse_actor(document)
        return profile_of(actor, await self._confirmed_acct(http, actor, None, None))

    async def store(self, profile: RemoteProfile) -> Account:
        async with db.session() as session:
            return await remote_accounts.upsert(session, profile)

    async def _confirmed_acct(self, http: FetchSession, actor: Actor, jrd: JRD | None, asked: Acct | None) -> Acct:
        """The `user@domain` WebFinger confirms for `actor` (Mismatch if it names someone else)."""
        home = parse_acct(f"{actor.preferred_username}@{host_of(actor.id)}")
        if jrd is None or asked is None or not asked.same_as(home) or jrd.self_href != actor.id:
            # The JRD we have came from the asked domain, not from the actor's server.
            asked = home
            jrd = await webfinger(http, asked, self.scheme)
            if jrd.self_href != actor.id:
                raise Mismatch(f"WebFinger for {asked} names another actor")
        subject = jrd.subject or asked
        if not subject.same_as(asked):
            self._check_remote(subject.domain)
            again = await webfinger(http, subject, self.scheme)
            if again.self_href != actor.id:
                raise Mismatch(f"WebFinger for {subject} names another actor")
        return subject


def profile_of(actor: Actor, acct: Acct) -> RemoteProfile:
    return RemoteProfile(
        uri=actor.id, username=acct.username, domain=acct.domain, url=actor.url or actor.id,
        display_name=actor.name, note_html=actor.summary, fields=[(f.name, f.value) for f in actor.fields],
        inbox_url=actor.inbox, outbox_url=actor.outbox or "", shared_inbox_url=actor.shared_inbox or "",
        followers_url=actor.followers or "", following_url=actor.following or "",
        public_key_pem=actor.public_key.pem, avatar_url=actor.icon_url, header_url=actor.image_url,
        locked=actor.manually_approves_followers, bot=actor.bot, group=actor.group,
        discoverable=actor.discoverable, indexable=actor.indexable, published=actor.published,
    )
