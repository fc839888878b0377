"""Status, as Mastodon renders it, for any number of statuses at once.

    items = await render_statuses(session, statuses, viewer)       # viewer: Account | None
    item = await render_status(session, status, viewer)
    item = await render_status(session, status, viewer, with_source=True)   # DELETE: adds `text`

Everything a status shows (authors, reblogged statuses, media, mentions, tags,
polls with tallies, the viewer's favourited/reblogged/bookmarked/muted/pinned
flags) is loaded in a fixed number of queries whatever the number of statuses,
so timelines, threads and searches can all use this. Callers pass only statuses
the viewer may see (see app.services.visibility).

With a viewer, each status gets `filtered`: the viewer's unexpired filters it trips, whatever
their contexts, as Mastodon (apps act on those of the context they show it in; app.services.filters).
Those filters are read by one more statement in the round trip that reads the viewer's flags,
so they cost no extra round trip.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import BigInteger, any_, bindparam, func, literal, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.api.entities.account import account_json, iso_datetime
from app.api.entities.filter import filter_result_json
from app.api.entities.media_attachment import media_attachment_json
from app.api.entities.poll import poll_json
from app.api.entities.preview_card import preview_card_json
from app.models import (Account, Application, Bookmark, ConversationMute, Favourite, MediaAttachment, Mention,
                        Poll, PreviewCard, Status, StatusPin, StatusTag, Tag)
from app.models.account import acct_of
from app.api.entities import render_cache
from app.services import filters, media_files, polls, preview_cards
from app.services.status_text import tag_url

PINNABLE = ("public", "unlisted", "private")


def mention_json(account: Account) -> dict[str, Any]:
    return {"id": str(account.id), "username": account.username, "url": account.url or account.uri,
            "acct": acct_of(account)}


@dataclass
class _Loaded:
    """Everything the statuses refer to, keyed for lookup."""

    statuses: dict[int, Status] = field(default_factory=dict)
    accounts: dict[int, Account] = field(default_factory=dict)
    static: dict[int, dict[str, Any]] = field(default_factory=dict)  # _static() of each status
    polls: dict[int, Poll] = field(default_factory=dict)
    tallies: dict[int, dict[int, int]] = field(default_factory=dict)
    own_votes: dict[int, list[int]] = field(default_factory=dict)
    applications: dict[int, Application] = field(default_factory=dict)
    flags: dict[str, set[int]] = field(default_factory=dict)
    cards: dict[int, PreviewCard] = field(default_factory=dict)
    filters: list[filters.ActiveFilter] | None = None  # None: `filtered` is not shown
    account_json: dict[int, dict[str, Any]] = field(default_factory=dict)  # each author rendered once

    def author(self, account_id: int) -> dict[str, Any]:
        found = self.account_json.get(account_id)
        if found is None:
            found = self.account_json[account_id] = account_json(self.accounts[account_id])
        return found


# Built once (building a SQLAlchemy statement costs more CPU than running it) and run
# through db.rows (rows, not ORM objects: a page of statuses is read on every timeline
# request); the ids and the viewer are bound when they run.
_VIEWER = bindparam("viewer_id", type_=BigInteger)
_BOOSTED = bindparam("boosted_ids", type_=ARRAY(BigInteger))  # see _ACCOUNTS_WITH_BOOSTED
_FLAGS = union_all(
    select(literal("favourited"), Favourite.status_id)
    .where(Favourite.account_id == _VIEWER, db.any_of(Favourite.status_id)),
    select(literal("reblogged"), Status.reblog_of_id)
    .where(Status.account_id == _VIEWER, db.any_of(Status.reblog_of_id), Status.deleted_at.is_(None)),
    select(literal("bookmarked"), Bookmark.status_id)
    .where(Bookmark.account_id == _VIEWER, db.any_of(Bookmark.status_id)),
    select(literal("pinned"), StatusPin.status_id)
    .where(StatusPin.account_id == _VIEWER, db.any_of(StatusPin.status_id)),
    select(literal("muted"), ConversationMute.conversation_id)
    .where(ConversationMute.account_id == _VIEWER, db.any_of(ConversationMute.conversation_id, "conversation_ids")),
)


def _and_of_boosted(name: str, column):
    """`:name` plus `column` of the boosted posts (`:boosted_ids`), as one array for `= ANY`:
    an OR of the two would keep PostgreSQL from the index (it scanned all of `accounts`)."""
    return any_(func.array_cat(bindparam(name, type_=ARRAY(BigInteger)), func.array(
        sa_select(column).where(Status.id == any_(_BOOSTED)).scalar_subquery())))


_FLAGS_WITH_BOOSTED = union_all(*_FLAGS.selects[:-1], select(literal("muted"), ConversationMute.conversation_id).where(
    ConversationMute.account_id == _VIEWER,
    ConversationMute.conversation_id == _and_of_boosted("conversation_ids", Status.conversation_id)))
_STATUSES = sa_select(Status.__table__).where(db.any_of(Status.id))
# What account_json shows: every column but the keys (a few kB a row that nothing here reads).
_ACCOUNT_COLUMNS = [c for c in Account.__table__.c if c.name not in ("private_key_pem", "public_key_pem")]
_ACCOUNTS = sa_select(*_ACCOUNT_COLUMNS).where(db.any_of(Account.id))
# For a page with boosts, whose boosted posts are read in the same round trip: their authors
# (and, in _FLAGS_WITH_BOOSTED, their conversations) are found by the database from their ids.
_ACCOUNTS_WITH_BOOSTED = sa_select(*_ACCOUNT_COLUMNS).where(Account.id == _and_of_boosted("ids", Status.account_id))
_MEDIA = (sa_select(MediaAttachment.__table__).where(db.any_of(MediaAttachment.status_id))
          .order_by(MediaAttachment.position, MediaAttachment.id))
_MENTIONS = (sa_select(Mention.status_id, Account.id, Account.username, Account.domain, Account.url, Account.uri)
             .join(Account, Account.id == Mention.account_id)
             .where(db.any_of(Mention.status_id), Mention.silent.is_(False)).order_by(Mention.id))
# A post's tags are named by their keys, as Mastodon names them there (its normalised name; the
# Tag entity shows the first spelling).
_TAGS = (sa_select(StatusTag.status_id, Tag.key).join(Tag, Tag.id == StatusTag.tag_id)
         .where(db.any_of(StatusTag.status_id)).order_by(Tag.key))
_POLLS = select(Poll).where(db.any_of(Poll.status_id))
_POLL_IDS = sa_select(Poll.status_id).where(db.any_of(Poll.status_id))
_APPLICATIONS = sa_select(Application.id, Application.name, Application.website).where(db.any_of(Application.id))


def _viewer_flags(rows) -> dict[str, set[int]]:
    """favourited / reblogged / bookmarked / pinned status ids and muted conversation ids, from _FLAGS."""
    flags: dict[str, set[int]] = {name: set() for name in ("favourited", "reblogged", "bookmarked", "pinned", "muted")}
    for name, value in rows:
        flags[name].add(value)
    return flags


def _static_statements(statuses: list[Status]) -> list[tuple]:
    """What only an edit changes, for statuses not in the render cache: 4 statements for all,
    sent in one round trip (see _static_from)."""
    ids = {"ids": [s.id for s in statuses]}
    return [(_MEDIA, ids), (_MENTIONS, ids), (_TAGS, ids), (_POLL_IDS, ids)]


async def _load_static(session: AsyncSession, statuses: list[Status]) -> dict[int, dict[str, Any]]:
    return _static_from(statuses, await db.rows_together(session, _static_statements(statuses)))


def _static_from(statuses: list[Status], results: list[list]) -> dict[int, dict[str, Any]]:
    media_rows, mention_rows, tag_rows, poll_rows = results
    media: dict[int, list[MediaAttachment]] = {}
    for attachment in media_rows:
        media.setdefault(attachment.status_id, []).append(attachment)
    mentions: dict[int, list] = {}
    for mention in mention_rows:
        mentions.setdefault(mention.status_id, []).append(mention)
    tags: dict[int, list[str]] = {}
    for status_id, name in tag_rows:
        tags.setdefault(status_id, []).append(name)
    with_poll = {row.status_id for row in poll_rows}
    storage = media_files.storage()
    return {s.id: {
        "json": {
            "id": str(s.id),
            "created_at": iso_datetime(s.created_at),
            "in_reply_to_id": str(s.in_reply_to_id) if s.in_reply_to_id else None,
            "in_reply_to_account_id": str(s.in_reply_to_account_id) if s.in_reply_to_account_id else None,
            "sensitive": s.sensitive,
            "spoiler_text": s.spoiler_text,
            "visibility": s.visibility,
            "language": s.language,
            "uri": s.uri,
            "url": s.url or None,
            "edited_at": iso_datetime(s.edited_at) if s.edited_at else None,
            "content": s.content,
            "media_attachments": [media_attachment_json(m, storage) for m in media.get(s.id, [])],
            "mentions": [mention_json(a) for a in mentions.get(s.id, [])],
            "tags": [{"name": name, "url": tag_url(name)} for name in tags.get(s.id, [])],
            "emojis": [],
        },
        "has_poll": s.id in with_poll,
        # Only a status with a link can have a preview card: the others skip the cards query.
        "has_link": preview_cards.first_link(s) is not None,
    } for s in statuses}


async def _load(session: AsyncSession, statuses: list[Status], viewer_id: int | None,
                fresh: bool = False) -> _Loaded:
    """`fresh`: `statuses` were written just now, so none of them is in the render cache yet."""
    loaded = _Loaded(statuses={s.id: s for s in statuses})
    # Boosted posts not among `statuses` are read in the same round trip as everything else.
    boosted = list({s.reblog_of_id for s in statuses if s.reblog_of_id and s.reblog_of_id not in loaded.statuses})
    ids = [s.id for s in statuses] + boosted

    # The authors, and what the viewer did with these statuses (and which of them are the
    # viewer's own, posted from which app: Mastodon shows that only to the author), the boosted
    # posts, and the static part of statuses just written (in no render cache yet): one round trip.
    account_ids = list({s.account_id for s in statuses})
    together: list[tuple] = []
    if boosted:
        together += [(_STATUSES, {"ids": boosted}),
                     (_ACCOUNTS_WITH_BOOSTED, {"ids": account_ids, "boosted_ids": boosted})]
    else:
        together.append((_ACCOUNTS, {"ids": account_ids}))
    app_ids = []
    if viewer_id is not None:
        conversation_ids = list({s.conversation_id for s in statuses if s.conversation_id}) or [-1]
        together.append((_FLAGS_WITH_BOOSTED, {"viewer_id": viewer_id, "ids": ids, "conversation_ids": conversation_ids,
                                               "boosted_ids": boosted}) if boosted else
                        (_FLAGS, {"viewer_id": viewer_id, "ids": ids, "conversation_ids": conversation_ids}))
        app_ids = list({s.application_id for s in statuses if s.account_id == viewer_id and s.application_id})
        if app_ids:
            together.append((_APPLICATIONS, {"ids": app_ids}))
        together.append((filters.ACTIVE_FILTERS, filters.active_filters_params(viewer_id, ids)))
    written = statuses if fresh else []
    if written:
        together += _static_statements(written)
    results = await db.rows_together(session, together) if len(together) > 1 else [
        await db.rows(session, _ACCOUNTS, {"ids": account_ids})]
    if boosted:
        for original in results.pop(0):
            loaded.statuses[original.id] = original
    everything = list(loaded.statuses.values())
    ids = [s.id for s in everything]
    for account in results[0]:
        loaded.accounts[account.id] = account
    if viewer_id is not None:
        loaded.flags = _viewer_flags(results[1])
        for application in (results[2] if app_ids else []):
            loaded.applications[application.id] = application
        loaded.filters = filters.compile_active(results[len(results) - 1 - (4 if written else 0)])
        # A boost of the viewer's own post shows the app it was posted from: rare enough for
        # a query of its own, once the boosted posts are known.
        more_app_ids = list({s.application_id for s in everything if s.account_id == viewer_id and s.application_id
                             and s.application_id not in loaded.applications})
        if more_app_ids:
            for application in await db.rows(session, _APPLICATIONS, {"ids": more_app_ids}):
                loaded.applications[application.id] = application

    cached = _static_from(written, results[-4:]) if written else {}
    if cached:
        await render_cache.put_many([(s, cached[s.id]) for s in written])
    cached.update(await render_cache.get_many(s for s in everything if s.id not in cached))
    misses = [s for s in everything if s.id not in cached]
    if misses:
        fresh = await _load_static(session, misses)
        await render_cache.put_many([(s, fresh[s.id]) for s in misses])
        cached.update(fresh)
    loaded.static = cached

    with_poll = [i for i in ids if cached[i]["has_poll"]]
    if with_poll:
        for poll in (await session.exec(_POLLS, params={"ids": with_poll})).all():
            loaded.polls[poll.status_id] = poll
    poll_ids = [p.id for p in loaded.polls.values()]
    loaded.tallies = await polls.tallies(session, poll_ids)
    loaded.own_votes = await polls.own_votes(session, poll_ids, viewer_id)
    loaded.cards = await preview_cards.cards_by_status(session, [i for i in ids if cached[i].get("has_link", True)])

    return loaded


def _filtered(status: Status, loaded: _Loaded) -> list[dict[str, Any]]:
    """The viewer's filters this status trips; a boost is judged by the post it boosts."""
    active = loaded.filters
    if not active:
        return []
    shown = loaded.statuses.get(status.reblog_of_id, status) if status.reblog_of_id else status
    text = None
    if filters.needs_text(active):
        static = loaded.static[shown.id]["json"]
        poll = loaded.polls.get(shown.id)
        text = filters.searchable_text(shown.content, shown.spoiler_text,
                                       (m.get("description") for m in static["media_attachments"]),
                                       poll.options if poll is not None else ())
    return [filter_result_json(m) for m in filters.matches(active, (status.id, status.reblog_of_id), text)]


def _one(status: Status, loaded: _Loaded, viewer_id: int | None, with_source: bool) -> dict[str, Any]:
    poll = loaded.polls.get(status.id)
    data: dict[str, Any] = dict(loaded.static[status.id]["json"])
    data.update({
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "reblog": None,
        "application": None,
        "account": loaded.author(status.account_id),
        "card": preview_card_json(loaded.cards[status.id]) if status.id in loaded.cards else None,
        "poll": poll_json(poll, loaded.tallies.get(poll.id, {}), loaded.own_votes.get(poll.id), viewer_id)
        if poll is not None else None,
    })
    if with_source:
        data["text"] = status.text
    if status.application_id in loaded.applications:
        application = loaded.applications[status.application_id]
        data["application"] = {"name": application.name, "website": application.website}
    if viewer_id is not None:
        flags = loaded.flags
        # A reblog wrapper shows the viewer's relation to the reblogged status, as clients expect.
        target = status.reblog_of_id or status.id
        target_status = loaded.statuses.get(target, status)
        data["favourited"] = target in flags["favourited"]
        data["reblogged"] = target in flags["reblogged"]
        data["muted"] = target_status.conversation_id in flags["muted"]
        data["bookmarked"] = target in flags["bookmarked"]
        if status.account_id == viewer_id and status.reblog_of_id is None and status.visibility in PINNABLE:
            data["pinned"] = status.id in flags["pinned"]
    if loaded.filters is not None:
        data["filtered"] = _filtered(status, loaded)
    if status.reblog_of_id is not None and status.reblog_of_id in loaded.statuses:
        data["reblog"] = _one(loaded.statuses[status.reblog_of_id], loaded, viewer_id, False)
    return data


async def render_statuses(session: AsyncSession, statuses: Iterable[Status], viewer: Account | None, *,
                          with_source: bool = False) -> list[dict[str, Any]]:
    """Mastodon Status JSON for each of `statuses`, in the same order."""
    statuses = list(statuses)
    if not statuses:
        return []
    viewer_id = viewer.id if viewer is not None else None
    loaded = await _load(session, statuses, viewer_id)
    return [_one(s, loaded, viewer_id, with_source) for s in statuses]


async def render_status(session: AsyncSession, status: Status, viewer: Account | None, *,
                        with_source: bool = False, media: list[MediaAttachment] | None = None,
                        fresh: bool = False) -> dict[str, Any]:
    """One status. `media` replaces the attachments found in the database (a deleted
    status has released its media for redrafting, yet its answer must list them).
    `fresh`: just posted, so not looked for in the render cache (a Redis round trip less)."""
    viewer_id = viewer.id if viewer is not None else None
    loaded = await _load(session, [status], viewer_id, fresh)
    if media is not None:
        static = loaded.static[status.id]
        loaded.static[status.id] = dict(static, json=dict(static["json"], media_attachments=[
            media_attachment_json(m) for m in media]))
    return _one(status, loaded, viewer_id, with_source)
