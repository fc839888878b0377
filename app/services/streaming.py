"""Real-time streaming: who may watch which stream, and publishing events to it.

Events travel over Redis pub/sub, on the channel names Mastodon's streaming
server uses (prefixed with the instance's Redis database on the wire: app.redis.channel), so any process (a web request, a worker) can publish and the socket
held by any web process receives:

    await streaming.publish_to_user(account_id, "notification", notification_json)  # home/notification/direct
    await streaming.publish_to_list(list_id, "update", status_json)
    await streaming.publish(streaming.PUBLIC, "delete", str(status_id))
    await streaming.defer_status_event(session, status, "update")   # public + hashtag streams, after commit

Payloads follow Mastodon's encoding: a JSON-encoded *string* for update,
status.update, notification, conversation and announcement (pass a dict and it
is encoded here, or an already-encoded string); the bare id string for delete;
nothing for filters_changed. Statuses for the public and hashtag streams are
rendered once per event (anonymously) by the `stream_status` worker
(workers/streaming.py); each connection then filters out authors its viewer
blocks, mutes or is blocked by, using the account ids carried beside the payload.

The internal message on a channel is JSON: {"event", "payload" (string, absent
for filters_changed), "accounts" (author and mentioned account ids, for
filtering), "queued_at" (ms)}.
"""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db, jobs, notices
from app import redis as app_redis
from app.models import AccessToken, Account, Block, Mute, Status, User
from app.models.base import utcnow
from app.models.list import List
from app.models.status import replies_to_another
from app.services import feed_access, filters, scopes, tokens
from app.services.ids import parse_id
from app.services.tokens import TokenOwner
from app.text import TAG_WORD, hashtag_key

log = logging.getLogger("starling.streaming")

STATUS_ACTOR = "stream_status"  # workers/streaming.py: renders a status once and publishes it

PUBLIC = "timeline:public"
PUBLIC_LOCAL = "timeline:public:local"
PUBLIC_REMOTE = "timeline:public:remote"
# Statuses that reach the filtered (public and hashtag) streams; other events pass unfiltered.
FILTERED_EVENTS = frozenset({"update", "status.update"})


def user_channel(account_id: int) -> str:
    return f"timeline:{account_id}"


def notifications_channel(account_id: int) -> str:
    return f"timeline:{account_id}:notifications"


def direct_channel(account_id: int) -> str:
    return f"timeline:direct:{account_id}"


def list_channel(list_id: int) -> str:
    return f"timeline:list:{list_id}"


def hashtag_channel(tag: str, *, local: bool = False) -> str:
    return f"timeline:hashtag:{hashtag_key(tag)}" + (":local" if local else "")


def token_channel(token_id: int) -> str:
    """System channel of one access token: a "kill" event here closes its open streams."""
    return f"timeline:access_token:{token_id}"


def system_channel(account_id: int) -> str:
    """System channel of one account, which every stream of theirs listens to: its blocks, mutes
    or filters changed (VIEWER_CHANGED, or Mastodon's filters_changed), to be read again at once.
    Never written to a client."""
    return f"timeline:system:{account_id}"


VIEWER_CHANGED = "relationships_changed"


# -- publishing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """One event as it travels on a channel (decoded once per process, shared by every listener)."""

    event: str
    payload: str | None = None
    accounts: tuple[int, ...] = ()  # the author first, then mentioned accounts (filtered streams only)

    @classmethod
    def decode(cls, raw: str | bytes) -> "Message | None":
        try:
            data = json.loads(raw)
            event = data["event"]
            payload = data.get("payload")
            accounts = tuple(int(a) for a in data.get("accounts") or ())
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(event, str) or not (payload is None or isinstance(payload, str)):
            return None
        return cls(event=event, payload=payload, accounts=accounts)


def encode(event: str, payload: Any = None, accounts: Iterable[int] = ()) -> str:
    message: dict[str, Any] = {"event": event, "queued_at": int(time.time() * 1000)}
    if payload is not None:
        message["payload"] = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    account_ids = [str(a) for a in accounts]
    if account_ids:
        message["accounts"] = account_ids
    return json.dumps(message, separators=(",", ":"))


async def publish(stream_key: str, event: str, payload: Any = None, *, accounts: Iterable[int] = ()) -> None:
    """Publish one event on one channel (e.g. PUBLIC, hashtag_channel("cats"))."""
    await app_redis.client().publish(app_redis.channel(stream_key), encode(event, payload, accounts))


async def publish_many(channels: Iterable[str], event: str, payload: Any = None, *,
                       accounts: Iterable[int] = ()) -> None:
    """The same event on several channels, encoded once, in one round trip."""
    await publish_encoded(channels, encode(event, payload, accounts))


async def publish_encoded(channels: Iterable[str], message: str) -> None:
    """An event already encoded with `encode` on several channels, in one round trip."""
    await publish_each((channel, message) for channel in channels)


async def publish_each(messages: Iterable[tuple[str, str]]) -> None:
    """(channel, encoded event) pairs, published in order, in one round trip."""
    async with app_redis.client().pipeline(transaction=False) as pipe:
        for channel, message in messages:
            pipe.publish(app_redis.channel(channel), message)
        await pipe.execute()


async def publish_to_user(account_id: int, event: str, payload: Any = None, *, stream: str | None = None) -> None:
    """An event for one local account's own streams.

    `stream` picks the channel: "user" (home timeline: update, delete, status.update,
    filters_changed...), "notification" or "direct". By default notifications go to
    the notification channel (which the `user` stream also listens to), conversations
    to the direct channel, everything else to the home channel.
    """
    stream = stream or {"notification": "notification", "notifications_merged": "notification",
                        "conversation": "direct"}.get(event, "user")
    channel = {"user": user_channel, "notification": notifications_channel, "direct": direct_channel}[stream]
    await publish(channel(account_id), event, payload)


async def publish_to_list(list_id: int, event: str, payload: Any = None) -> None:
    await publish(list_channel(list_id), event, payload)


def viewer_changed_after_commit(session: AsyncSession, *account_ids: int) -> None:
    """Blocks or mutes of these accounts change in this transaction: once it commits, their open
    streams read them again before the next status (instead of up to a FILTER_TTL later)."""
    async def tell() -> None:
        try:
            await publish_many([system_channel(a) for a in account_ids], VIEWER_CHANGED)
        except Exception:  # the change has committed; the streams catch up within FILTER_TTL
            log.exception("streams of accounts %s not told of new blocks or mutes", account_ids)

    db.after_commit(session, tell)


async def disconnect_token(token_id: int) -> None:
    """Close every open stream of a revoked token now (they also notice within TOKEN_RECHECK_SECONDS)."""
    await publish(token_channel(token_id), "kill")


def disconnect_after_commit(session: AsyncSession, token_ids: Iterable[int]) -> None:
    """Tokens revoked in this transaction: close their open streams once it commits (before,
    a stream re-checking its token would still find it live). Best effort, like every stream
    event: a stream that misses the kill finds the token revoked at its next check."""
    ids = list(token_ids)
    if ids:
        db.after_commit(session, lambda: disconnect_now(ids))


async def disconnect_now(token_ids: list[int]) -> None:
    """Close the open streams of tokens whose revocation has committed already."""
    if not token_ids:
        return
    try:
        await publish_many([token_channel(i) for i in token_ids], "kill")
    except Exception:  # the revocation itself has committed: the answer stays what it was
        log.exception("open streams of revoked tokens %s not told", token_ids)


# -- who has a home stream open ------------------------------------------------------------------
# A fan-out publishes `update` only to receivers someone is listening for, instead of one
# PUBLISH per follower into the void (100,000 for a big account). Each process's Hub keeps
# the accounts whose user channel it is subscribed to in this sorted set, scored with the
# time (epoch seconds) until which the entry holds, and renews them every WATCH_RENEW_SECONDS.
# Entries are never removed when a stream closes (another process may still hold one for
# the same account): they lapse, so a closed app costs a few useless PUBLISHes for at most
# WATCH_SECONDS, and a crashed process leaves nothing behind for longer.
WATCHING = "streaming:watching"
WATCH_SECONDS = 90
WATCH_RENEW_SECONDS = 30


def watched_account(channel: str) -> int | None:
    """The account whose home (user) channel this is, or None for any other channel."""
    rest = channel[len("timeline:"):] if channel.startswith("timeline:") else ""
    return int(rest) if rest.isascii() and rest.isdigit() else None


async def mark_watching(account_ids: Iterable[int]) -> None:
    """These accounts have a user stream open here: fan-outs publish to them for WATCH_SECONDS."""
    until = int(time.time()) + WATCH_SECONDS
    entries = {str(a): until for a in account_ids}
    if not entries:
        return
    async with app_redis.feeds().pipeline(transaction=False) as pipe:  # the fan-out script reads it there
        pipe.zadd(WATCHING, entries, gt=True)  # adds new entries, only ever extends existing ones
        pipe.zremrangebyscore(WATCHING, "-inf", f"({int(time.time())}")  # lapsed entries
        await pipe.execute()


async def defer_status_event(session: AsyncSession, status: Status, event: str) -> None:
    """From a status hook, inside its transaction: publish `event` (update, status.update or
    delete) to the public and hashtag streams once the change has committed. Only if someone
    listens to any of them now: pub/sub keeps nothing for later listeners, and a post costs a
    job less (an outbox row, a message, the worker's claim and release) when nobody does. A
    stream opened in between misses this one event, as if it had opened a moment later."""
    if status.visibility == "public" and status.reblog_of_id is None and await anyone_watching_statuses():
        jobs.defer(session, STATUS_ACTOR, status_id=status.id, event=event)


async def listened(channels: list[str]) -> set[str]:
    """Those of `channels` some process subscribes to right now (pub/sub keeps nothing for
    later listeners, so an event for the others need not be rendered at all)."""
    if not channels:
        return set()
    counts = await app_redis.client().pubsub_numsub(*map(app_redis.channel, channels))
    return {channel for channel, (_, count) in zip(channels, counts) if count}


# Whether anyone watches public or hashtag streams is remembered per process while notices
# are heard (app/notices.py): a hub that starts listening to such a channel announces it, so
# a remembered "nobody" is dropped everywhere; a remembered answer is asked again after
# WATCHING_STATUSES_SECONDS anyway, so that a "somebody" who left stops costing jobs.
LISTENERS_NOTICE = "status listeners"
WATCHING_STATUSES_SECONDS = 30.0
_watching_statuses: tuple[bool, float] | None = None  # (answer, monotonic time it holds until)
_watching_forgotten = 0


def is_status_channel(channel: str) -> bool:
    """A channel that status events (update, status.update, delete) are published on."""
    return channel.startswith("timeline:hashtag:") or channel in PUBLIC_STREAMS.values()


def forget_watching_statuses(_payload=None) -> None:
    global _watching_statuses, _watching_forgotten
    _watching_statuses = None
    _watching_forgotten += 1


notices.on(LISTENERS_NOTICE, forget_watching_statuses)
notices.on_gap(forget_watching_statuses)


async def announce_status_listener() -> None:
    """This process has just begun listening to a status channel: nobody may go on
    remembering that nobody does."""
    forget_watching_statuses()
    await app_redis.client().publish(*notices.message(LISTENERS_NOTICE, None))


async def anyone_watching_statuses() -> bool:
    """Does any process listen on a public or hashtag channel right now? When nobody does, a
    status event needs no rendering at all (pub/sub keeps nothing for later listeners)."""
    global _watching_statuses
    now = time.monotonic()
    notices.start()
    known = _watching_statuses
    if known is not None and now < known[1] and notices.listening():
        return known[0]
    forgotten = _watching_forgotten
    async with app_redis.client().pipeline(transaction=False) as pipe:  # one round trip
        pipe.pubsub_numsub(*map(app_redis.channel, PUBLIC_STREAMS.values()))
        pipe.pubsub_channels(app_redis.channel("timeline:hashtag:*"))
        public, hashtags = await pipe.execute()
    answer = any(count for _, count in public) or bool(hashtags)
    if forgotten == _watching_forgotten:  # no listener announced itself while we asked
        _watching_statuses = (answer, now + WATCHING_STATUSES_SECONDS)
    return answer


def status_channels(status: Status, tags: Iterable[str], *, has_media: bool, event: str) -> list[str]:
    """The public and hashtag channels a public status is published on (Mastodon's rules:
    replies to someone else stay off the public timelines but still reach hashtags;
    deletions go everywhere the status may have been shown)."""
    origin = "local" if status.local else "remote"
    channels: list[str] = []
    for tag in dict.fromkeys(tags):  # keys (tags.key), as workers/streaming.py reads them
        channels.append(hashtag_channel(tag))
        if status.local:
            channels.append(hashtag_channel(tag, local=True))
    if event == "delete" or not replies_to_another(status):
        channels += [PUBLIC, f"{PUBLIC}:{origin}"]
        if has_media:
            channels += [f"{PUBLIC}:media", f"{PUBLIC}:{origin}:media"]
    return channels


# -- who may watch what ---------------------------------------------------------------------------

class StreamError(Exception):
    """A refused connection or subscription: {"error": message} with an HTTP-like status."""

    def __init__(self, message: str, status: int | None = 400):
        super().__init__(message)
        self.message, self.status = message, status

    def body(self) -> dict[str, Any]:
        # No status: a failed unsubscribe's frame, which has none in Mastodon either.
        return {"error": self.message} if self.status is None else {"error": self.message, "status": self.status}


MISSING_TOKEN = "Missing access token"
INVALID_TOKEN = "Invalid access token"
MISSING_SCOPES = "Access token does not have the required scopes"
UNKNOWN_STREAM = "Unknown stream type"
NO_TAG = "Missing tag name parameter"
NO_LIST = "Missing list name parameter"
LIST_REFUSED = "Not authorized to stream this list"
# What a hashtag can be made of (app.services.status_text): anything else in a subscription's tag
# is dropped, as Mastodon's streaming server does, so "#cats!" is #cats and a tag that cannot
# be encoded (a lone surrogate) or holds a NUL never reaches Redis.
_NOT_IN_TAGS = re.compile(rf"(?!{TAG_WORD}|[\u00b7\u30fb\u200c]).", re.DOTALL)


async def authenticate(token: str | None) -> TokenOwner:
    """The signed-in user behind `token`. Streams need a user token (Mastodon 4.2 and later:
    no anonymous or app-only streaming); anything else is a 401."""
    if not token:
        raise StreamError(MISSING_TOKEN, 401)
    async with db.session() as session:
        owner = await tokens.lookup(session, token)
    if not usable(owner):
        raise StreamError(INVALID_TOKEN, 401)
    return owner


def usable(owner: TokenOwner | None) -> bool:
    """A live user token of an account that may use the API (the same gates as app.api.auth)."""
    if owner is None or owner.account is None or owner.user is None:
        return False
    return (owner.account.suspended_at is None and not owner.user.disabled
            and owner.user.confirmed and owner.user.approved)


async def still_valid(owner: TokenOwner) -> bool:
    """Is the token behind an open stream still live (not revoked, its user still allowed in)?"""
    async with db.session() as session:
        found = (await session.exec(
            select(AccessToken, Account, User)
            .join(Account, AccessToken.account_id == Account.id)
            .join(User, User.account_id == Account.id)
            .where(AccessToken.id == owner.token.id, AccessToken.revoked_at.is_(None)))).first()
    if found is None:
        return False
    token, account, user = found
    return usable(TokenOwner(token=token, application=owner.application, account=account, user=user))


@dataclass(frozen=True)
class Stream:
    """A resolved subscription: the channels it listens to and how frames name it."""

    name: str
    label: tuple[str, ...]  # the frame's "stream" value, e.g. ("hashtag", "cats")
    channels: tuple[str, ...]
    filtered: bool  # public and hashtag streams drop authors the viewer blocks/mutes
    # What makes two subscriptions the same (one socket holds each once): the channels the
    # stream stands for, as Mastodon keys them, even when feed access narrows where it listens.
    key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.channels)  # frozen: set once, here


PUBLIC_STREAMS = {
    "public": PUBLIC,
    "public:media": f"{PUBLIC}:media",
    "public:local": PUBLIC_LOCAL,
    "public:local:media": f"{PUBLIC_LOCAL}:media",
    "public:remote": PUBLIC_REMOTE,
    "public:remote:media": f"{PUBLIC_REMOTE}:media",
}
KNOWN_STREAMS = frozenset({*PUBLIC_STREAMS, "user", "user:notification", "hashtag", "hashtag:local", "list",
                           "direct"})


def _param(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip() if value is not None else ""


def _need(owner: TokenOwner, scope: str) -> None:
    if not (scopes.covers(owner.scopes, "read") or scopes.covers(owner.scopes, scope)):
        raise StreamError(MISSING_SCOPES, 401)


async def resolve(owner: TokenOwner, name: Any, params: dict[str, Any]) -> Stream:
    """Check `owner` may watch stream `name` (with its tag/list parameter) and say where it listens."""
    if isinstance(name, list):  # Mastodon accepts ["hashtag", "cats"] style names too
        name = name[0] if name else None
    if not isinstance(name, str) or name not in KNOWN_STREAMS:
        raise StreamError(UNKNOWN_STREAM, 400)
    account_id = owner.account.id
    # As Mastodon: public and hashtag streams need no scope, the others `read` or the narrower one.
    if name in PUBLIC_STREAMS:
        return Stream(name, (name,), _live_channels(name, owner.user), filtered=True, key=(PUBLIC_STREAMS[name],))
    if name in ("hashtag", "hashtag:local"):
        asked = _param(params, "tag")
        tag = _NOT_IN_TAGS.sub("", asked)
        if not hashtag_key(tag):
            raise StreamError(NO_TAG, 400)
        # Remote posts only when the reader may read them (local ones always: a stream has a
        # signed-in user, and local topic feeds cannot be disabled).
        asked_local = name == "hashtag:local"
        local = not feed_access.granted("topic", owner.user, local=asked_local, remote=False).remote
        # Frames are labelled with the tag as the client asked for it, as Mastodon's (clients match on it).
        return Stream(name, (name, asked), (hashtag_channel(tag, local=local),), filtered=True,
                      key=(hashtag_channel(tag, local=asked_local),))
    if name == "user:notification":
        _need(owner, "read:notifications")
        return Stream(name, (name,), (notifications_channel(account_id),), filtered=False)
    _need(owner, "read:statuses")
    if name == "user":
        channels = [user_channel(account_id)]
        # Mastodon: the user stream carries notifications only for tokens allowed to read them.
        if scopes.covers(owner.scopes, "read:notifications"):
            channels.append(notifications_channel(account_id))
        return Stream(name, (name,), tuple(channels), filtered=False)
    if name == "direct":
        return Stream(name, (name,), (direct_channel(account_id),), filtered=False)
    # list
    raw_list = _param(params, "list")
    if not raw_list:
        raise StreamError(NO_LIST, 400)
    list_id = parse_id(raw_list)  # unknown, malformed and out-of-range ids are all "not yours"
    if list_id is None or not await owns_list(account_id, list_id):
        raise StreamError(LIST_REFUSED, 401)
    return Stream(name, (name, raw_list), (list_channel(list_id),), filtered=False)


def _live_channels(name: str, user) -> tuple[str, ...]:
    """Where a public stream listens, given the parts of the live feeds its reader may read: a
    disabled part is left out (the whole stream narrowed to the other part), so it hears nothing
    of it, and a stream of that part alone hears nothing at all."""
    media = ":media" if name.endswith(":media") else ""
    base = name.removesuffix(":media")
    parts = feed_access.granted("live", user, local=base == "public:local", remote=base == "public:remote")
    if parts.local and parts.remote:
        return (PUBLIC_STREAMS[name],)
    if parts.local:
        return (PUBLIC_LOCAL + media,)
    if parts.remote:
        return (PUBLIC_REMOTE + media,)
    return ()


async def owns_list(account_id: int, list_id: int) -> bool:
    """Does the list exist and belong to `account_id`? (Mastodon answers the same for both.)"""
    async with db.session() as session:
        found = await session.get(List, list_id)
    return found is not None and found.account_id == account_id


# -- per-viewer filtering of public and hashtag streams -----------------------------------------

@dataclass
class ViewerFilter:
    """The accounts whose posts a viewer must not be shown on public streams (Mastodon filters
    these in its streaming server too): those the viewer blocks or mutes, and those blocking them."""

    hidden: set[int] = field(default_factory=set)  # blocked or muted by the viewer
    blocked_by: set[int] = field(default_factory=set)  # accounts that block the viewer
    filters: list[filters.ActiveFilter] = field(default_factory=list)  # their keyword and status filters

    def allows(self, message: Message) -> bool:
        """Mastodon's rule: hide the post if the viewer blocks or mutes its author or anyone
        it mentions, or if its author blocks the viewer."""
        if not message.accounts:
            return True
        if any(account in self.hidden for account in message.accounts):
            return False
        return message.accounts[0] not in self.blocked_by


async def load_filter(account_id: int) -> ViewerFilter:
    """Three small indexed queries; a connection reloads them every FILTER_TTL seconds."""
    now = utcnow()
    async with db.session() as session:
        active = filters.compile_active(await db.rows(session, filters.ALL_ACTIVE_FILTERS, {"viewer_id": account_id}))
        blocks = (await session.exec(
            select(Block.account_id, Block.target_account_id)
            .where(or_(Block.account_id == account_id, Block.target_account_id == account_id)))).all()
        muted = (await session.exec(
            select(Mute.target_account_id).where(
                Mute.account_id == account_id, or_(Mute.expires_at.is_(None), Mute.expires_at > now)))).all()
    result = ViewerFilter(hidden=set(muted), filters=active)
    for blocker, target in blocks:
        if blocker == account_id:
            result.hidden.add(target)
        else:
            result.blocked_by.add(blocker)
    return result
