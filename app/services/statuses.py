"""Posting, editing and deleting statuses, and reading them (one, several, a thread).

    status = await create(Poster(account, user, application_id), Draft(text="hi"), idempotency_key=None)
    status = await edit(account, status_id, Draft(text="hi again"))
    deleted = await delete(account, status_id)            # Deleted(status, media) for redraft
    status = await find_visible(session, viewer, status_id)       # 404 unless the viewer may see it
    ancestors, descendants = await context(session, viewer, status)

Every write is one transaction: the status, its mentions, tags, media links,
poll, edit history and the counts it changes (the author's statuses_count and
last_status_at, the parent's replies_count) commit together or not at all.
Counting follows Mastodon: direct messages do not count in statuses_count, and
only public or unlisted replies count in the parent's replies_count.

Errors are Mastodon's: 422 "Validation failed: ..." for bad input, 404 for a
status the caller may not see or does not own, 429 past the posting budget.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, or_, text, tuple_, update
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import after_response, db
from app import redis as app_redis
from app.config import get_settings
from app.errors import ApiError, NotFound
from app.models import (Account, MediaAttachment, Mention, Poll, Status, StatusEdit, StatusPin, StatusTag, Tag,
                        Tombstone, User)
from app.models.base import utcnow
from app.models.status import VISIBILITIES
from app.services import media, polls, rate_limits, relationships, status_text, visibility
from app.services import conversations, feeds, notifications, preview_cards, search, streaming
from app.services.ids import parse_id  # noqa: F401  (callers know it as statuses.parse_id)
from app.services.instance import LIMITS
from app.services.polls import NewPoll
from app.text import hashtag_key

IDEMPOTENCY_SECONDS = 3600  # Mastodon keeps Idempotency-Key answers for an hour
IDEMPOTENCY_WAIT = 5.0  # how long a retry waits for the first request with its key to finish
LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")
DISTRIBUTABLE = ("public", "unlisted")
# Thread limits: Mastodon's for anonymous visitors, and generous but bounded ones for users.
ANONYMOUS_CONTEXT = (40, 60, 20)  # ancestors, descendants, depth
SIGNED_IN_CONTEXT = (4096, 4096, 4096)
IN_REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."


class StillProcessing(ApiError):
    """A retry arrived while the first request with the same Idempotency-Key is still running."""

    status_code = 409

    def __init__(self):
        super().__init__("A post with this Idempotency-Key is still being processed, try again in a moment")


@dataclass
class Poster:
    account: Account
    user: User | None
    application_id: int | None = None


@dataclass
class Draft:
    """What the poster sent. None means "not given" (defaults apply)."""

    text: str | None = None
    spoiler_text: str | None = None
    sensitive: bool | None = None
    visibility: str | None = None
    language: str | None = None
    in_reply_to_id: str | None = None
    media_ids: list[str] | None = None
    poll: NewPoll | None = None
    scheduled_at: str | None = None


@dataclass
class Deleted:
    status: Status
    media: list[MediaAttachment] = field(default_factory=list)


# -- hooks ------------------------------------------------------------------------------------
# What a post, an edit or a delete sets off (home-feed fan-out, streams, notifications,
# conversations, search indexing, preview cards), each through `jobs.defer(session, ...)` or
# a check made in the same transaction, so it commits with the change or not at all.

async def on_created(session: AsyncSession, status: Status, anyone_to_tell: bool | None = None) -> None:
    """A status was posted (runs inside the posting transaction). `anyone_to_tell`: the answer
    of notifications.anyone_to_tell(status), when it was sent with the post's rows."""
    feeds.status_created(session, status)  # home feeds (fan-out on write)
    await streaming.defer_status_event(session, status, "update")  # public and hashtag streams
    await notifications.status_posted(session, status, anyone_to_tell)  # mentions, `notify` subscribers
    await conversations.status_posted(session, status)  # a direct post: its participants' conversations
    search.status_changed(session, status)  # search index (Meilisearch; PostgreSQL indexes on write)
    preview_cards.status_posted(session, status)  # the card of its first link


async def on_edited(session: AsyncSession, status: Status) -> None:
    """A status was edited (runs inside the editing transaction)."""
    feeds.status_edited(session, status)  # `status.update` on the home streams that show it
    await streaming.defer_status_event(session, status, "status.update")  # public and hashtag streams
    await notifications.status_edited(session, status)  # `update` to boosters, new mentions
    search.status_changed(session, status)  # search index
    await preview_cards.status_edited(session, status)  # a card for a changed first link


async def on_deleted(session: AsyncSession, status: Status) -> None:
    """A status (or a reblog of it) was deleted (runs inside the deleting transaction)."""
    feeds.status_deleted(session, status)  # out of home feeds, with its boosts
    await conversations.status_deleted(session, status)  # out of direct conversations
    await streaming.defer_status_event(session, status, "delete")  # public and hashtag streams
    search.status_changed(session, status)  # out of the search index


# -- reading ----------------------------------------------------------------------------------

async def find_visible(session: AsyncSession, viewer: Account | None, status_id, *,
                       message: str = "Record not found") -> Status:
    """The status if `viewer` may see it; 404 otherwise (also for deleted ones)."""
    status_id = parse_id(status_id)
    status = None
    if status_id is not None:
        status = (await session.exec(
            select(Status).where(Status.id == status_id, visibility.visible_to(viewer.id if viewer else None))
        )).first()
    if status is None:
        raise NotFound(message)
    return status


async def find_many(session: AsyncSession, viewer: Account | None, raw_ids: list) -> list[Status]:
    """GET /api/v1/statuses?id[]=...: the visible ones, in the order asked, unknown ids skipped."""
    ids = list(dict.fromkeys(i for i in (parse_id(r) for r in raw_ids) if i is not None))
    if not ids:
        return []
    found = {s.id: s for s in (await session.exec(
        select(Status).where(Status.id.in_(ids), visibility.visible_to(viewer.id if viewer else None))
    )).all()}
    return [found[i] for i in ids if i in found]


async def find_own(session: AsyncSession, account: Account, status_id, *, lock: bool = False) -> Status:
    status_id = parse_id(status_id)
    query = select(Status).where(Status.id == status_id, Status.account_id == account.id,
                                 Status.deleted_at.is_(None))
    status = (await session.exec(query.with_for_update() if lock else query)).first() if status_id else None
    if status is None:
        raise NotFound()
    return status


async def context(session: AsyncSession, viewer: Account | None, status: Status) -> tuple[list[Status], list[Status]]:
    """Ancestors (root first) and descendants (depth first, replies oldest first) that the viewer
    may see, each walked with one recursive query. Deleted posts are walked through but not shown,
    so a thread does not break where a post in the middle was deleted."""
    max_up, max_down, max_depth = ANONYMOUS_CONTEXT if viewer is None else SIGNED_IN_CONTEXT
    up = await session.execute(text("""
        WITH RECURSIVE up(id, in_reply_to_id, depth) AS (
            SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = :id
            UNION ALL
            SELECT s.id, s.in_reply_to_id, up.depth + 1
            FROM statuses s JOIN up ON s.id = up.in_reply_to_id
            WHERE up.depth < :max_depth
        )
        SELECT id, depth FROM up WHERE depth > 0
    """), {"id": status.id, "max_depth": max_up})
    ancestor_order = {row.id: row.depth for row in up}
    down = await session.execute(text("""
        WITH RECURSIVE down(id, path, depth) AS (
            SELECT id, ARRAY[id], 1 FROM statuses WHERE in_reply_to_id = :id
            UNION ALL
            SELECT s.id, down.path || s.id, down.depth + 1
            FROM statuses s JOIN down ON s.in_reply_to_id = down.id
            WHERE down.depth < :max_depth
        )
        SELECT id FROM down ORDER BY path
    """), {"id": status.id, "max_depth": max_depth})
    descendant_order = {row.id: n for n, row in enumerate(down)}

    viewer_id = viewer.id if viewer else None
    wanted = list(ancestor_order) + list(descendant_order)
    if not wanted:
        return [], []
    rows = (await session.exec(
        select(Status).where(Status.id.in_(wanted), visibility.visible_to(viewer_id),
                             visibility.not_muted_by(viewer_id))
    )).all()
    ancestors = sorted((s for s in rows if s.id in ancestor_order), key=lambda s: -ancestor_order[s.id])
    descendants = sorted((s for s in rows if s.id in descendant_order), key=lambda s: descendant_order[s.id])
    return ancestors[-max_up:], descendants[:max_down]


@dataclass
class AccountFilter:
    """GET /api/v1/accounts/:id/statuses options (Mastodon's AccountStatusesFilter)."""

    pinned: bool = False
    exclude_replies: bool = False  # replies to oneself (threads) are kept, as Mastodon does
    exclude_reblogs: bool = False
    only_media: bool = False
    tagged: str | None = None


async def of_account(session: AsyncSession, viewer: Account | None, account: Account, filters: AccountFilter,
                     page) -> list[tuple[int, Status]]:
    """An account's statuses that `viewer` may see, newest first, as (cursor id, status):
    the cursor is the status id, or the pin id with `pinned` (pins come newest pin first).
    Blocks either way leave it empty (the visibility rules hide everything across a block).
    `page` is an app.api.pagination.Page."""
    viewer_id = viewer.id if viewer else None
    query = select(Status).where(Status.account_id == account.id, visibility.visible_to(viewer_id))
    if viewer_id is not None and viewer_id != account.id:
        # Boosts of authors the viewer mutes stay out (Mastodon filters them the same way).
        boosted = aliased(Status)
        query = query.where(or_(Status.reblog_of_id.is_(None), ~exists().where(
            boosted.id == Status.reblog_of_id, relationships.mutes(viewer_id, boosted.account_id))))
    if filters.exclude_replies:
        query = query.where(or_(Status.reply.is_(False), Status.in_reply_to_account_id == Status.account_id))
    if filters.exclude_reblogs:
        query = query.where(Status.reblog_of_id.is_(None))
    if filters.only_media:
        query = query.where(exists().where(MediaAttachment.status_id == Status.id))
    if filters.tagged:
        query = query.where(exists().where(StatusTag.status_id == Status.id, StatusTag.tag_id == Tag.id,
                                           Tag.key == hashtag_key(filters.tagged.strip().lstrip("#"))))
    if filters.pinned:
        query = query.add_columns(StatusPin.id).join(StatusPin, (StatusPin.status_id == Status.id)
                                                      & (StatusPin.account_id == account.id))
        rows = (await session.execute(page.apply(query, StatusPin.id))).all()  # (Status, pin id) rows
        return page.order([(pin_id, status) for status, pin_id in rows], key=lambda pair: pair[0])
    rows = (await session.exec(page.apply(query, Status.id))).all()
    return [(status.id, status) for status in page.order(list(rows))]


async def history(session: AsyncSession, status: Status) -> list[StatusEdit]:
    """Every revision, oldest first; a never-edited status has one: itself."""
    edits = list((await session.exec(
        select(StatusEdit).where(StatusEdit.status_id == status.id).order_by(StatusEdit.created_at, StatusEdit.id)
    )).all())
    if edits:
        return edits
    return [await _snapshot(session, status, status.created_at, add=False)]


# -- checking what was sent -------------------------------------------------------------------

def _fail(message: str) -> ApiError:
    return ApiError(message, 422)


def _language(raw: str | None, fallback: str | None) -> str | None:
    """An ISO 639 code; anything else falls back (Mastodon ignores unsupported codes)."""
    match = LANGUAGE.match((raw or "").strip())
    return match.group(1).lower() if match else fallback


def _media_ids(raw: list[str] | None) -> list[int]:
    ids = []
    for value in raw or []:
        media_id = parse_id(value) if isinstance(value, (str, int)) else None
        if media_id is None:
            raise _fail("Validation failed: Media attachments are invalid")
        ids.append(media_id)
    return list(dict.fromkeys(ids))


def _check_content(text_value: str, spoiler_text: str, has_media: bool, poll: NewPoll | None) -> None:
    if has_media and poll is not None:
        raise _fail("Validation failed: A post cannot have both media attachments and a poll")
    if not text_value.strip() and not has_media and poll is None:
        raise _fail("Validation failed: Text can't be blank")
    limit = get_settings().max_post_chars
    if status_text.countable_length(text_value, spoiler_text) > limit:
        raise _fail(f"Validation failed: Text character limit of {limit} exceeded")
    if poll is not None:
        polls.raise_if_invalid(poll)


def _local_domains() -> set[str]:
    return {get_settings().domain.lower()}


async def _resolve_mentions(session: AsyncSession, found: list[tuple[str, str | None]]) -> dict[tuple, Account]:
    """Accounts for the mentions that name an account we know (local, or remote already
    fetched); keyed by `status_text.mention_key` of the mention as written."""
    if not found:
        return {}
    local = {u.lower() for u, d in found if d is None or d.lower() in _local_domains()}
    remote = {(u.lower(), d.lower()) for u, d in found if d is not None and d.lower() not in _local_domains()}
    conditions = []
    if local:
        conditions.append(Account.domain.is_(None) & func.lower(Account.username).in_(local))
    if remote:
        conditions.append(tuple_(func.lower(Account.username), func.lower(Account.domain)).in_(list(remote)))
    condition = conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1]
    # Only accounts that exist for others: not suspended, and local ones confirmed and approved
    # (someone still waiting for approval is not mentionable, as they are not searchable).
    accounts = (await session.exec(select(Account).where(condition, relationships.listable()))).all()
    by_name = {(a.username.lower(), (a.domain or "").lower() or None): a for a in accounts}
    resolved = {}
    for username, domain in found:
        key = status_text.mention_key(username, domain)
        lookup = (username.lower(), None) if domain is None or domain.lower() in _local_domains() else key
        if lookup in by_name:
            resolved[key] = by_name[lookup]
    return resolved


async def _content(session: AsyncSession, text_value: str) -> tuple[str, list[Account], list[str]]:
    """HTML content, mentioned accounts (in order, no repeats) and hashtag names of a text."""
    resolved = await _resolve_mentions(session, status_text.mentions(text_value))
    html = status_text.render(text_value, resolved, status_text.tag_url)
    accounts = list({a.id: a for a in resolved.values()}.values())
    return html, accounts, status_text.hashtags(text_value)


async def upsert_tags(session: AsyncSession, names: list[str], at: datetime | None = None) -> list[int]:
    """Tag ids for `names`, creating the tags that are new (case-insensitively); each tag's
    last use moves to `at` (now by default) unless it was used later (a fetched remote post
    may be older than the last local one)."""
    if not names:
        return []
    return list((await session.execute(_UPSERT_TAGS, _tags_params(names, at))).scalars().all())


def _tags_params(names: list[str], at: datetime | None = None) -> dict:
    return {"names": names, "keys": [hashtag_key(n) for n in names], "at": at or utcnow()}


# One statement for any number of tags: a multi-row VALUES would be a new statement (compiled
# again, never prepared) for every count of tags. Names are made unique, and ordered, by their
# keys (app.text.hashtag_key: #Café and #cafe are one tag, and one statement cannot update a row
# twice). A stable order keeps concurrent posts with the same new tags from deadlocking; the
# first spelling given is the one a new tag keeps.
_UPSERT_TAGS = text(
    "INSERT INTO tags (name, key, created_at, last_status_at) "
    "SELECT DISTINCT ON (key) name, key, CAST(:at AS timestamptz), CAST(:at AS timestamptz) "
    "FROM unnest(CAST(:names AS varchar[]), CAST(:keys AS varchar[])) WITH ORDINALITY AS t(name, key, position) "
    "ORDER BY key, position "
    "ON CONFLICT (key) DO UPDATE SET last_status_at = greatest(tags.last_status_at, excluded.last_status_at) "
    "RETURNING id")


_NEW_ID = text("SELECT starling_id()")


async def _new_id_and_tags(session: AsyncSession, names: list[str]) -> tuple[int, list[int]]:
    """A new post's id, and the ids of its hashtags (created if new), in the posting
    transaction's first round trip: sent together, its BEGIN included (psycopg's pipeline),
    where one after the other they took three."""
    statements = [(_NEW_ID, {})] + ([(_UPSERT_TAGS, _tags_params(names))] if names else [])
    results = await db.rows_together(session, statements)
    return results[0][0][0], [row[0] for row in results[1]] if names else []


# A new post's rows in one round trip (see _write_new), each statement built once.
_INSERT_STATUS = Status.__table__.insert()
_INSERT_STATUS_TAGS = text("INSERT INTO status_tags (status_id, tag_id) "
                           "SELECT :status_id, unnest(CAST(:tag_ids AS bigint[]))")
# In the order written: mentions are shown by id, and each row's id comes from starling_id().
_INSERT_MENTIONS = text("INSERT INTO status_mentions (status_id, account_id, silent) "
                        "SELECT :status_id, m.account_id, false "
                        "FROM unnest(CAST(:account_ids AS bigint[])) WITH ORDINALITY AS m(account_id, position) "
                        "ORDER BY m.position")
_COUNT_POST = text("UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = :at "
                   "WHERE id = :account_id")
_COUNT_REPLY = text("UPDATE statuses SET replies_count = replies_count + 1 WHERE id = :parent_id")


async def _write_new(session: AsyncSession, status: Status, mentioned_ids: list[int], tag_ids: list[int], *,
                     counted: bool, reply_counted: bool) -> bool:
    """Insert a new post, its hashtags and mentions, and count it on its author (and on the post
    it replies to), sent together in one round trip, where the ORM's flush took one round trip
    per statement; with them, the question whether the post may notify anyone (answered).
    `status` stays outside the session: nothing changes it after this."""
    statements = [(_INSERT_STATUS, {column.name: getattr(status, column.name) for column in Status.__table__.columns})]
    if tag_ids:
        statements.append((_INSERT_STATUS_TAGS, {"status_id": status.id, "tag_ids": tag_ids}))
    if mentioned_ids:
        statements.append((_INSERT_MENTIONS, {"status_id": status.id, "account_ids": mentioned_ids}))
    if counted:
        statements.append((_COUNT_POST, {"account_id": status.account_id, "at": status.created_at}))
    if reply_counted:
        statements.append((_COUNT_REPLY, {"parent_id": status.in_reply_to_id}))
    statements.append(notifications.anyone_to_tell(status))
    return bool((await db.rows_together(session, statements))[-1][0][0])


async def _set_tags(session: AsyncSession, status: Status, names: list[str]) -> None:
    """An edited post's hashtags replace the ones it had (a new post's go with it: _write_new)."""
    await session.exec(StatusTag.__table__.delete().where(StatusTag.status_id == status.id))
    for tag_id in await upsert_tags(session, names):
        session.add(StatusTag(status_id=status.id, tag_id=tag_id))


async def _set_mentions(session: AsyncSession, status: Status, accounts: list[Account]) -> None:
    """After an edit: mentions now in the text are shown; ones the edit removed stay, silent, so
    whoever already got the post keeps it (Mastodon does the same). A new post's: _write_new."""
    existing = {m.account_id: m for m in (await session.exec(
        select(Mention).where(Mention.status_id == status.id))).all()}
    wanted = {a.id for a in accounts}
    for account_id, mention in existing.items():
        mention.silent = account_id not in wanted
        session.add(mention)
    for account in accounts:
        if account.id not in existing:
            session.add(Mention(status_id=status.id, account_id=account.id))


async def _attach_media(session: AsyncSession, status: Status, media_ids: list[int], *,
                        new: bool = False) -> list[MediaAttachment]:
    """Attach the poster's ready, unattached uploads (and keep ones already on this status),
    in the order given; others that were on the status are released. `new`: it has none yet."""
    if len(media_ids) > LIMITS.max_media_attachments:
        raise _fail(f"Cannot attach more than {LIMITS.max_media_attachments} files")
    if new and not media_ids:
        return []
    current = {} if new else {m.id: m for m in (await session.exec(
        select(MediaAttachment).where(MediaAttachment.status_id == status.id).with_for_update())).all()}
    new = await media.attachable(session, status.account_id, [i for i in media_ids if i not in current])
    by_id = {**current, **{m.id: m for m in new}}
    for attachment in current.values():
        if attachment.id not in media_ids:
            attachment.status_id = None
            session.add(attachment)
    ordered = [by_id[i] for i in media_ids]
    for position, attachment in enumerate(ordered):
        attachment.status_id = status.id
        attachment.position = position
        session.add(attachment)
    return ordered


async def _snapshot(session: AsyncSession, status: Status, at: datetime, *, add: bool = True) -> StatusEdit:
    """The status as it is now, as a revision."""
    media_ids = list((await session.exec(
        select(MediaAttachment.id).where(MediaAttachment.status_id == status.id)
        .order_by(MediaAttachment.position, MediaAttachment.id))).all())
    poll = (await session.exec(select(Poll).where(Poll.status_id == status.id))).first()
    revision = StatusEdit(status_id=status.id, account_id=status.account_id, text=status.text,
                          content=status.content, spoiler_text=status.spoiler_text, sensitive=status.sensitive,
                          media_attachment_ids=media_ids, poll_options=list(poll.options) if poll else None,
                          created_at=at)
    if add:
        session.add(revision)
    return revision


# -- Idempotency-Key --------------------------------------------------------------------------

def _idempotency_key(account_id: int, key: str) -> str:
    return f"idempotency:status:{account_id}:{hashlib.sha256(key.encode()).hexdigest()}"


async def _claim(redis_key: str) -> int | None:
    """Claim the key for this request (None), or the id of the status an earlier request made."""
    redis = app_redis.client()
    deadline = time.monotonic() + IDEMPOTENCY_WAIT
    while True:
        if await redis.set(redis_key, "pending", nx=True, ex=IDEMPOTENCY_SECONDS):
            return None
        value = await redis.get(redis_key)
        if value and value.isdigit():
            return int(value)
        if value is None:
            continue  # released between our two calls: try to claim again
        if time.monotonic() > deadline:
            raise StillProcessing()
        await asyncio.sleep(0.05)


# -- writing ----------------------------------------------------------------------------------

async def create(poster: Poster, draft: Draft, *, idempotency_key: str | None = None) -> Status:
    """Post a status (see the module docstring); returns it committed."""
    account = poster.account
    redis_key = _idempotency_key(account.id, idempotency_key) if idempotency_key else None
    if redis_key:
        earlier = await _claim(redis_key)
        if earlier is not None:
            async with db.session() as session:
                status = await session.get(Status, earlier)
            if status is not None and status.deleted_at is None:
                return status
            # The first post was deleted since: post again under the same key.
            await app_redis.client().set(redis_key, "pending", ex=IDEMPOTENCY_SECONDS)
    try:
        # The posting budget (rate_limits "statuses"): checked first, spent once the post exists.
        await rate_limits.check("statuses", account.id)
        status = await _insert(poster, draft)
    except BaseException:
        if redis_key:
            await app_redis.client().delete(redis_key)
        raise
    if redis_key:
        # Once the answer is out (one Redis round trip less before it: behind a big fan-out's
        # scripts each one waits); a repeat meanwhile finds "pending" and waits for it.
        async def remember() -> None:
            await app_redis.client().set(redis_key, str(status.id), ex=IDEMPOTENCY_SECONDS)

        await after_response.soon(remember)
    await rate_limits.spend("statuses", account.id, refuse=False)
    return status


async def _insert(poster: Poster, draft: Draft) -> Status:
    account, user = poster.account, poster.user
    if draft.scheduled_at:
        raise _fail("Scheduled posts are not supported on this server")
    visibility_value = draft.visibility or (user.default_privacy if user else "public")
    if visibility_value not in VISIBILITIES:
        raise _fail("Validation failed: Visibility is not included in the list")
    if visibility_value == "public" and account.silenced_at is not None:
        visibility_value = "unlisted"  # a limited account reaches only its followers' feeds
    text_value = status_text.normalize_newlines(draft.text or "")
    spoiler_text = (draft.spoiler_text or "").strip()
    media_ids = _media_ids(draft.media_ids)
    if len(media_ids) > LIMITS.max_media_attachments:
        raise _fail(f"Cannot attach more than {LIMITS.max_media_attachments} files")
    _check_content(text_value, spoiler_text, bool(media_ids), draft.poll)
    default_sensitive = user.default_sensitive if user else False
    sensitive = (default_sensitive if draft.sensitive is None else draft.sensitive) or bool(spoiler_text)

    async with db.session() as session:
        status_id, tag_ids = await _new_id_and_tags(session, status_text.hashtags(text_value))
        parent = None
        if draft.in_reply_to_id not in (None, ""):
            parent = await find_visible(session, account, draft.in_reply_to_id, message=IN_REPLY_NOT_FOUND)
            if parent.reblog_of_id is not None:  # replying to a boost replies to the boosted post
                parent = await find_visible(session, account, parent.reblog_of_id, message=IN_REPLY_NOT_FOUND)
        content, mentioned, _ = await _content(session, text_value)
        now = utcnow()
        status = Status(
            id=status_id,
            uri=f"{account.uri}/statuses/{status_id}",
            url=f"{account.url or account.uri}/{status_id}",
            local=True,
            account_id=account.id,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            reply=parent is not None,
            conversation_id=(parent.conversation_id or parent.id) if parent else status_id,
            application_id=poster.application_id,
            visibility=visibility_value,
            text=text_value,
            content=content,
            spoiler_text=spoiler_text,
            sensitive=sensitive,
            language=_language(draft.language, user.default_language if user else None),
            created_at=now,
            updated_at=now,
        )
        anyone_to_tell = await _write_new(session, status, [a.id for a in mentioned], tag_ids,
                                          counted=visibility_value != "direct",
                                          reply_counted=parent is not None and visibility_value in DISTRIBUTABLE)
        await _attach_media(session, status, media_ids, new=True)
        if draft.poll is not None:
            session.add(polls.build(status, draft.poll))
        await on_created(session, status, anyone_to_tell)
        await session.flush()
    return status


async def edit(account: Account, status_id, draft: Draft) -> Status:
    """PUT /api/v1/statuses/:id. Like Mastodon, the request states the whole new post: text,
    content warning, sensitivity, media and poll not sent are cleared; language is kept.
    The first edit also records the original as a revision."""
    text_value = status_text.normalize_newlines(draft.text or "")
    spoiler_text = (draft.spoiler_text or "").strip()
    media_ids = _media_ids(draft.media_ids)
    if len(media_ids) > LIMITS.max_media_attachments:
        raise _fail(f"Cannot attach more than {LIMITS.max_media_attachments} files")
    _check_content(text_value, spoiler_text, bool(media_ids), draft.poll)
    async with db.session() as session:
        status = await find_own(session, account, status_id, lock=True)
        if status.reblog_of_id is not None:
            raise _fail("Validation failed: A boost cannot be edited")
        poll = (await session.exec(select(Poll).where(Poll.status_id == status.id).with_for_update())).first()
        current_media = list((await session.exec(
            select(MediaAttachment.id).where(MediaAttachment.status_id == status.id)
            .order_by(MediaAttachment.position, MediaAttachment.id))).all())
        sensitive = bool(draft.sensitive) or bool(spoiler_text)
        language = _language(draft.language, status.language)
        new_poll = draft.poll
        poll_changed = (poll is None) != (new_poll is None) or (
            poll is not None and (poll.options != new_poll.options or poll.multiple != new_poll.multiple))
        changed = (text_value != status.text or spoiler_text != status.spoiler_text or sensitive != status.sensitive
                   or language != status.language or media_ids != current_media or poll_changed
                   or (poll is not None and new_poll is not None and (
                       poll.hide_totals != new_poll.hide_totals or new_poll.expires_in is not None)))
        if not changed:
            return status  # Mastodon records no revision for an edit that changes nothing

        has_edits = (await session.exec(select(StatusEdit.id).where(StatusEdit.status_id == status.id))).first()
        if has_edits is None:
            await _snapshot(session, status, status.created_at)
        await _attach_media(session, status, media_ids)
        if new_poll is None and poll is not None:
            await session.delete(poll)
        elif new_poll is not None and poll is None:
            session.add(polls.build(status, new_poll))
        elif new_poll is not None and poll is not None:
            if poll_changed:
                await polls.reset_votes(session, poll)
            fresh = polls.build(status, new_poll)
            poll.options, poll.multiple, poll.hide_totals = fresh.options, fresh.multiple, fresh.hide_totals
            poll.expires_at, poll.updated_at = fresh.expires_at, utcnow()
            session.add(poll)
        content, mentioned, tags = await _content(session, text_value)
        now = utcnow()
        status.text, status.content, status.spoiler_text = text_value, content, spoiler_text
        status.sensitive, status.language = sensitive, language
        status.edited_at = status.updated_at = now
        session.add(status)
        await _set_mentions(session, status, mentioned)
        await _set_tags(session, status, tags)
        await session.flush()
        await _snapshot(session, status, now)
        await on_edited(session, status)
        await session.flush()
    return status


async def delete(account: Account, status_id) -> Deleted:
    """Soft-delete one's own status (and the boosts of it), remember its URI, fix the counts.
    Its media are released so they can be attached again when redrafting."""
    async with db.session() as session:
        status = await find_own(session, account, status_id, lock=True)
        now = utcnow()
        attachments = list((await session.exec(
            select(MediaAttachment).where(MediaAttachment.status_id == status.id)
            .order_by(MediaAttachment.position, MediaAttachment.id))).all())
        reblogs = list((await session.exec(
            select(Status).where(Status.reblog_of_id == status.id, Status.deleted_at.is_(None)).with_for_update()
        )).all())
        for gone in [status, *reblogs]:
            gone.deleted_at = gone.updated_at = now
            session.add(gone)
            session.add(Tombstone(uri=gone.uri, account_id=gone.account_id))
            if gone.visibility != "direct":
                await session.exec(update(Account).where(Account.id == gone.account_id).values(
                    statuses_count=func.greatest(Account.statuses_count - 1, 0)))
        if status.reblog_of_id is not None:
            await session.exec(update(Status).where(Status.id == status.reblog_of_id).values(
                reblogs_count=func.greatest(Status.reblogs_count - 1, 0)))
        if status.in_reply_to_id is not None and status.visibility in DISTRIBUTABLE:
            await session.exec(update(Status).where(Status.id == status.in_reply_to_id).values(
                replies_count=func.greatest(Status.replies_count - 1, 0)))
        for attachment in attachments:
            attachment.status_id = None
            session.add(attachment)
        await session.exec(StatusPin.__table__.delete().where(StatusPin.status_id == status.id))
        await on_deleted(session, status)
        await session.flush()
    return Deleted(status=status, media=attachments)
