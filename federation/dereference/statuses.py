"""Remote statuses: a post's URL -> a stored Status with its author.

    statuses = StatusDereferencer(client, accounts)
    status = await statuses.by_url("https://remote.example/@alice/110000000000000001")

The object is fetched with a signed GET and must be served at its own id (objects.py);
`attributedTo` must be on the object's server (activitypub.notes). The author is fetched
unless it was fetched less than a day ago, and the author and the post are stored in one
transaction, so a failure leaves nothing behind. Visibility is read from `to`/`cc` against
the author's followers collection, as Mastodon does.
"""
from __future__ import annotations

from activitypub.notes import Note, parse_note
from activitypub.vocabulary import host_of
from app import db
from app.models import Status
from app.services import remote_accounts, remote_statuses
from app.services.remote_accounts import RemoteProfile
from app.services.remote_statuses import RemotePost
from federation.dereference.accounts import AccountDereferencer
from federation.dereference.objects import DereferenceError, NotRemote, canonical, fetch_object
from federation.http import FetchSession


class StatusDereferencer:
    def __init__(self, accounts: AccountDereferencer):
        self.accounts = accounts
        self.client = accounts.client

    async def by_url(self, url: str) -> Status:
        if host_of(url) == self.accounts.local_domain:
            raise NotRemote(f"{url[:200]} is on this server")
        async with db.session() as session:
            known = await remote_statuses.find_known(session, url)
        if known is not None:
            return known
        async with self.client.session() as http:
            return await self.from_document(http, url, None)

    async def from_document(self, http: FetchSession, url: str, document: dict | None) -> Status:
        """Store the status at `url` (`document`: what `url` already answered, if fetched)."""
        document = await (canonical(http, url, document) if document is not None else fetch_object(http, url))
        note = parse_note(document)
        if host_of(note.id) == self.accounts.local_domain:
            raise NotRemote(f"{note.id[:200]} is on this server")
        async with db.session() as session:
            known = await remote_statuses.find_known(session, note.id)
            author = await remote_accounts.find_by_uri(session, note.attributed_to)
        if known is not None:
            return known
        profile: RemoteProfile | None = None
        if author is None or remote_accounts.is_stale(author):
            profile = await self.accounts.profile_at(http, note.attributed_to)
        async with db.session() as session:
            if profile is not None:
                author = await remote_accounts.upsert(session, profile)
            else:
                author = await remote_accounts.find_by_uri(session, note.attributed_to)
                if author is None:  # deleted since we looked a moment ago
                    raise DereferenceError(f"{note.attributed_to[:200]} is gone")
            return await remote_statuses.upsert(session, author, post_of(note, author.followers_url))


def post_of(note: Note, followers_url: str | None) -> RemotePost:
    return RemotePost(
        uri=note.id, url=note.url, content_html=note.content, visibility=note.visibility(followers_url),
        summary=note.summary, sensitive=note.sensitive, published=note.published, language=note.language,
        in_reply_to_uri=note.in_reply_to, mention_uris=note.mentions, hashtags=note.hashtags,
    )
