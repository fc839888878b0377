"""The Redis side of home feeds: keys, the insert/remove scripts, reading a window.

Per local account three keys (four while it is rebuilt), all expiring feed_active_days after the last read:
    feed:home:<id>          sorted set, score = member = status id, feed_max_items entries
                            (cut back to that once a sixteenth more came in: see trim)
    feed:home:<id>:reblogs  sorted set, member = boosted status id, score = the boost's id that
                            represents it in the feed (Mastodon's reblog tracking)
    feed:home:<id>:cut      while the feed is rebuilt, where a writer last cut it back (FINISH)
    feed:home:<id>:floor    the feed is "live": writers add to it, and it holds every entry
                            with id >= floor (0: everything since the beginning)
and per status, for a day after a fan-out of an author pulled at read time told open streams:
    feed:told:<id>          (first_telling) so that a fan-out run again does not tell them twice
and per boosted status, for feed_active_days after its last boost reached a feed:
    feed:boosted:<id>       some boost of it is (or was) in a feed, so its own fan-out must
                            check each feed's reblog tracking (see FAN_OUT)

Without the floor key the feed is not trusted: fan-out skips it and the reader goes
to PostgreSQL and asks for a rebuild. Scores are doubles, which cannot hold a 64-bit
id exactly, so ranges are read with inclusive bounds plus a margin and cut exactly
here; members (the exact ids) break ties in the right order because all our ids
have the same number of digits.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from app import redis as app_redis
from app.config import get_settings
from app.services.streaming import WATCHING

# A boost is not added when the boosted post is among the newest this many entries (Mastodon's value).
REBLOG_FALLOFF = 40
# Ids that can share one double score, read this many extra: a double's 53-bit mantissa keeps
# ids apart to within 16 below 2^57 and 32 below 2^58 (about the year 2100 for ms << 16 ids), and
# a bound's own double may hold up to 33 of them, rounding half to even from both sides.
SCORE_MARGIN = 40
# The floor's value while a rebuild fills the feed: writers add to it, readers do not trust it yet.
BUILDING = "building"


def feed_key(account_id: int) -> str:
    return f"feed:home:{account_id}"


def reblogs_key(account_id: int) -> str:
    return f"feed:home:{account_id}:reblogs"


def floor_key(account_id: int) -> str:
    return f"feed:home:{account_id}:floor"


def keys_of(account_id: int) -> list[str]:
    return [feed_key(account_id), reblogs_key(account_id), floor_key(account_id)]


def ttl_seconds() -> int:
    return get_settings().feed_active_days * 86400


# One entry added to one feed under Mastodon's rules. Arguments: the three keys,
# status id, boosted id ('0' if none), own ('1': the feed owner's own post, always added),
# max entries. Returns 0 when the rules keep it out, 1 when it was in the feed already
# (a redelivery), 2 when it went in now.
_ADD = """
local BUILDING = '%(building)s'
-- A feed grows a sixteenth past `max` before it is cut back to `max` (800 -> 850 -> 800): a full
-- feed then costs five more calls once in 50 inserts instead of on every one, which made a
-- fan-out into full feeds take about twice the Redis time.
local function limit(max) return max + math.floor(max / 16) end
-- Cut back to `max` entries once past the limit; the floor rises to the oldest one kept. A feed
-- key that this write created (emptied earlier by removals, or by an empty rebuild) gets the
-- feed's expiry: without one it would outlive its floor and never be freed.
local function trim(feed, reblogs, floor, max, ttl)
  local n = redis.call('ZCARD', feed)
  if n == 1 then redis.call('EXPIRE', feed, ttl) end
  if n > limit(max) then
    redis.call('ZREMRANGEBYRANK', feed, 0, n - max - 1)
    local low = redis.call('ZRANGE', feed, 0, 0)[1]
    redis.call('ZREMRANGEBYSCORE', reblogs, '-inf', '(' .. low)
    if redis.call('GET', floor) ~= BUILDING then
      redis.call('SET', floor, low, 'XX', 'KEEPTTL')
    else  -- being rebuilt: FINISH raises the floor to the last cut (cuts only ever rise)
      redis.call('SET', feed .. ':cut', low, 'EX', ttl)
    end
  end
end
-- A boost stands for its post while it is among the feed's newest `falloff` entries (Mastodon
-- stops tracking it there): further down, a later boost of the post, or the post itself, shows
-- again. `boost` is the tracked boost's score (a double: the boost id, rounded), so entries are
-- counted by score rather than looked up by member.
local function standing(feed, boost)
  return redis.call('ZCOUNT', feed, '(' .. boost, '+inf') < %(falloff)d
end
local function add(feed, reblogs, floor, sid, rid, own, max, ttl)
  if rid ~= '0' then
    local rank = redis.call('ZREVRANK', feed, rid)
    if rank and rank < %(falloff)d then return 0 end
    local seen = redis.call('ZSCORE', reblogs, rid)
    if seen and tonumber(seen) ~= tonumber(sid) then
      -- another boost of the same post already stands for it in this feed: this one is held
      -- back, to stand in for it if it goes (REMOVE)
      if standing(feed, seen) then
        local held = reblogs .. ':' .. rid
        redis.call('SADD', held, sid)
        redis.call('EXPIRE', held, ttl)
        return 0
      end
      redis.call('ZADD', reblogs, sid, rid)  -- it sank: this one stands for the post now
    elseif not seen then
      redis.call('ZADD', reblogs, sid, rid)
      if redis.call('ZCARD', reblogs) == 1 then redis.call('EXPIRE', reblogs, ttl) end
    end
  elseif own ~= '1' then
    local seen = redis.call('ZSCORE', reblogs, sid)
    if seen and standing(feed, seen) then return 0 end  -- a boost of it arrived first and shows it
  end
  local new = redis.call('ZADD', feed, sid, sid)
  trim(feed, reblogs, floor, max, ttl)
  return 1 + new
end
""" % {"falloff": REBLOG_FALLOFF, "building": BUILDING}

# Fan one status out to many feeds. KEYS[1]: the registry of accounts with an open home
# stream (app.services.streaming.WATCHING: member account id, score = epoch seconds until
# which it holds). ARGV: sid, rid, own, max, seconds a boost mark lasts, and the account ids
# joined by commas (one argument: packing 100,000 separate arguments cost the worker more
# CPU than Redis spent on them). Feed keys are built here from the ids, so this needs a
# single Redis, not a cluster. Feeds that are not live are skipped. Returns two lists of
# positions (0-based) in the ids: the accounts whose feed holds the status (now or
# already), and those whose feed got it just now and who have a home stream open (the
# caller publishes the `update` event to those only, not to every receiver, and not again
# on a redelivery). ARGV[7] '0' returns the number of receivers instead of their positions:
# a big fan-out needs only the number, and 100,000 positions cost Redis and the worker more
# than the count.
#
# Per receiver this costs a share of an MGET (which feeds are live), a ZADD and a ZCARD in
# the common case:
# - who is watching is found once per call, by looking up whichever is smaller, the open
#   streams (nothing at all when there are none) or this batch;
# - an original post is checked against each feed's boost tracking only if some boost of
#   it was ever fanned out (`feed:boosted:<id>`, set below, in the same atomic script as
#   the boost's adds, so no boost can slip in between the check and the adds).
FAN_OUT = _ADD + """
local call = redis.call  -- a local: the hot loop looks it up 200,000 times per 100,000 feeds
local sid, rid, own, max = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local ids = {}
for id in string.gmatch(ARGV[6], '%d+') do ids[#ids + 1] = id end
local CHUNK = 500  -- keys per MGET / ZMSCORE (unpack has a limit)
local live = {}
local feeds = {}  -- each key string made once (with `call` above, a fifth less script time than twice)
for k = 1, #ids do feeds[k] = 'feed:home:' .. ids[k] end
for start = 1, #ids, CHUNK do
  local last = math.min(start + CHUNK - 1, #ids)
  local floors = {}
  for k = start, last do floors[#floors + 1] = feeds[k] .. ':floor' end
  local values = redis.call('MGET', unpack(floors))
  for k = 1, #values do live[start + k - 1] = values[k] end
end
local now = redis.call('TIME')[1]
local open = redis.call('ZCOUNT', KEYS[1], now, '+inf')
local watching = {}  -- position -> true
if open > 0 and open <= #ids then
  local streams = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do streams[id] = true end
  for k = 1, #ids do watching[k] = streams[ids[k]] end
elseif open > 0 then
  for start = 1, #ids, CHUNK do
    local last = math.min(start + CHUNK - 1, #ids)
    local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids, start, last))
    for k = 1, last - start + 1 do
      if scores[k] and tonumber(scores[k]) >= tonumber(now) then watching[start + k - 1] = true end
    end
  end
end
if rid ~= '0' then redis.call('SET', 'feed:boosted:' .. rid, '1', 'EX', ARGV[5]) end
local plain = rid == '0' and (own == '1' or redis.call('EXISTS', 'feed:boosted:' .. sid) == 0)
local added, told, received = {}, {}, 0
local positions = ARGV[7] ~= '0'
for k = 1, #ids do
  if live[k] then
    local feed = feeds[k]
    local went
    if plain then
      went = 1 + call('ZADD', feed, sid, sid)
      local n = call('ZCARD', feed)
      if n == 1 then
        redis.call('EXPIRE', feed, ARGV[5])  -- this write created the key (see trim)
      elseif n > limit(max) then
        trim(feed, feed .. ':reblogs', feed .. ':floor', max, ARGV[5])
      end
    else
      went = add(feed, feed .. ':reblogs', feed .. ':floor', sid, rid, own, max, ARGV[5])
    end
    if went > 0 then
      received = received + 1
      if positions then added[#added + 1] = k - 1 end
      -- told once: a redelivered fan-out finds the entry there and announces nothing again
      if went == 2 and watching[k] then told[#told + 1] = k - 1 end
    end
  end
end
if not positions then added = received end
return {added, told}
"""

# Fill one feed with many entries, oldest first: KEYS = the triple; ARGV: own account id, max,
# seconds the boost mark lasts, then (sid, rid, author) triples. Used by rebuilds and by
# merging a newly followed account. Boosts mark their post as boosted (see FAN_OUT).
FILL = _ADD + """
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local n = 0
for i = 4, #ARGV, 3 do
  local own = (ARGV[i + 2] == ARGV[1]) and '1' or '0'
  if ARGV[i + 1] ~= '0' then redis.call('SET', 'feed:boosted:' .. ARGV[i + 1], '1', 'EX', ARGV[3]) end
  if add(KEYS[1], KEYS[2], KEYS[3], ARGV[i], ARGV[i + 1], own, tonumber(ARGV[2]), ARGV[3]) > 0 then n = n + 1 end
end
return n
"""

# Remove statuses from many feeds, with the reblog tracking that pointed at them.
# KEYS are (feed, reblogs, floor) triples; ARGV = (status id, boosted id or '0') pairs. A boost
# that stood for its post hands over to the oldest boost held back meanwhile (`<reblogs>:<rid>`,
# see _ADD), which goes into the feed in its place, as Mastodon's remove_from_feed does; a
# held-back boost that goes is forgotten. Returns how many entries went.
REMOVE = """
local n = 0
for i = 1, #KEYS, 3 do
  local feed, reblogs = KEYS[i], KEYS[i + 1]
  for j = 1, #ARGV, 2 do
    local sid, rid = ARGV[j], ARGV[j + 1]
    local gone = redis.call('ZREM', feed, sid)
    n = n + gone
    local held, stood = nil, false
    if rid ~= '0' then
      held = reblogs .. ':' .. rid
      redis.call('SREM', held, sid)
      local tracked = redis.call('ZSCORE', reblogs, rid)
      stood = gone == 1 and tracked and tonumber(tracked) == tonumber(sid)
    end
    redis.call('ZREMRANGEBYSCORE', reblogs, sid, sid)
    redis.call('ZREM', reblogs, sid)
    if stood then
      -- ids are digit strings: the shortest, then smallest, is the oldest boost held back
      local next
      for _, other in ipairs(redis.call('SMEMBERS', held)) do
        if not next or #other < #next or (#other == #next and other < next) then next = other end
      end
      if next then
        redis.call('SREM', held, next)
        redis.call('ZADD', feed, next, next)
        redis.call('ZADD', reblogs, next, rid)
      end
    end
  end
end
return n
"""

# Read a window of one feed: KEYS = the triple; ARGV: upper and lower score bounds (inclusive,
# '+inf'/'-inf' when open), how many, the expiry to refresh, '1' for oldest first. Returns
# {floor or nil, members}. One command instead of a pipeline of five: every home read runs
# it, and the client spends less CPU on one command than on a pipeline of five.
READ = """
local floor = redis.call('GET', KEYS[3])
local members
if ARGV[5] == '1' then
  members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[1], 'LIMIT', 0, ARGV[3])
else
  members = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return {floor, members}
"""

# A rebuilt feed becomes live: KEYS = the triple; ARGV: the floor the rebuild found, max entries,
# expiry. If fan-outs meanwhile filled the feed past its limit, it was cut back without moving
# the still-BUILDING floor, and the cut point was kept (`<feed>:cut`): the floor rises to it.
# (The oldest entry left is not the cut point: a removal since, or a remote post dated before
# the cut arriving after it, would have set the floor below a gap.) One script so that no cut
# can fall between looking and setting. Ids are compared as decimal strings of
# equal length, the floor '0' being shorter than any: Lua numbers are doubles, too coarse for ids.
FINISH = """
local floor = ARGV[1]
local cut = redis.call('GET', KEYS[1] .. ':cut')
if cut and (#cut > #floor or (#cut == #floor and cut > floor)) then floor = cut end
redis.call('DEL', KEYS[1] .. ':cut')
redis.call('SET', KEYS[3], floor, 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return floor
"""

_scripts: dict = {}


def script(name: str):
    """A registered script (EVALSHA with a transparent reload), per Redis client."""
    client = app_redis.feeds()
    key = (id(client), name)
    if key not in _scripts:
        _scripts[key] = client.register_script({"FAN_OUT": FAN_OUT, "FILL": FILL, "REMOVE": REMOVE, "READ": READ, "FINISH": FINISH}[name])
    return _scripts[key]


@dataclass
class Window:
    """An id window as the API asks for it: (since_id or min_id, max_id), exclusive."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None

    @property
    def ascending(self) -> bool:
        return self.min_id is not None

    @property
    def lower(self) -> int:
        return max(self.since_id or 0, self.min_id or 0)

    @property
    def upper(self) -> int | None:
        return self.max_id

    def within(self, ids) -> list[int]:
        """Those of `ids` inside the window, in their order (bounds worked out once: a page
        filters a hundred ids or more)."""
        lower, upper = self.lower, self.max_id
        if upper is None:
            return [i for i in ids if i > lower]
        return [i for i in ids if lower < i < upper]

    def narrowed(self, *, lower: int | None = None, upper: int | None = None) -> "Window":
        """The same direction with tighter exclusive bounds."""
        new_lower = max(self.lower, lower or 0)
        new_upper = self.max_id if upper is None else (upper if self.max_id is None else min(self.max_id, upper))
        if self.ascending:
            return Window(max_id=new_upper, min_id=new_lower)
        return Window(max_id=new_upper, since_id=new_lower or None)


async def read(account_id: int, window: Window, count: int) -> tuple[int | None, list[int]]:
    """(floor, ids): the feed's floor (None: no live feed) and up to `count` ids inside `window`
    (newest first, or oldest first for min_id windows). One round trip; refreshes the expiry."""
    keys = keys_of(account_id)
    high = str(window.max_id) if window.max_id is not None else "+inf"
    low = str(window.lower) if window.lower else "-inf"
    fetch = count + SCORE_MARGIN
    floor, members = await script("READ")(keys=keys, args=[high, low, fetch, ttl_seconds(),
                                                           "1" if window.ascending else "0"])
    if floor is None or floor == BUILDING:
        return None, []
    ids = window.within(map(int, members))
    # The inclusive score range may have brought neighbours of the bounds; order is exact by member.
    ids.sort(reverse=not window.ascending)
    return int(floor), ids[:count]


async def start_building(account_id: int) -> None:
    """Open an empty feed for writers before a rebuild reads PostgreSQL, so that a post
    committed meanwhile lands either in what the rebuild reads or through fan-out."""
    async with app_redis.feeds().pipeline(transaction=True) as pipe:
        pipe.delete(feed_key(account_id), reblogs_key(account_id), feed_key(account_id) + ":cut")
        pipe.set(floor_key(account_id), BUILDING, ex=ttl_seconds())
        await pipe.execute()


async def finish_building(account_id: int, floor: int) -> None:
    """Readers may trust the feed from now on: it holds every entry with id >= floor."""
    await script("FINISH")(keys=keys_of(account_id), args=[str(floor), get_settings().feed_max_items, ttl_seconds()])


async def floor_of(account_id: int) -> int | None:
    """The floor of a live feed (None when there is none or it is being built)."""
    value = await app_redis.feeds().get(floor_key(account_id))
    return None if value in (None, BUILDING) else int(value)


async def floors_of(account_ids: list[int]) -> list[int | None]:
    """floor_of for each account, in one round trip."""
    if not account_ids:
        return []
    values = await app_redis.feeds().mget([floor_key(a) for a in account_ids])
    return [None if value in (None, BUILDING) else int(value) for value in values]


async def claim_rebuild(account_id: int, seconds: int = 60) -> bool:
    """True for the first caller in `seconds`: one rebuild request per feed at a time."""
    return bool(await app_redis.feeds().set(f"feed:home:{account_id}:rebuild", "1", nx=True, ex=seconds))


@dataclass
class Added:
    """What a fan-out call did: how many feeds hold the status (now or already), which of those
    just got it and have a home stream open (to be told), and whose feeds they are when asked."""

    received: int
    watching: list
    receivers: list | None = None


async def add_to_feeds(account_ids: list, status_id: int, reblog_of_id: int | None, *,
                       own: bool = False, with_receivers: bool = False) -> Added:
    """Add one status to the live feeds of `account_ids` (ints or digit strings)."""
    if not account_ids:
        return Added(0, [], [] if with_receivers else None)
    added, watching = await script("FAN_OUT")(keys=[WATCHING], args=[
        str(status_id), str(reblog_of_id or 0), "1" if own else "0", get_settings().feed_max_items,
        ttl_seconds(), ",".join(map(str, account_ids)), "1" if with_receivers else "0"])
    told = [account_ids[int(i)] for i in watching]
    if not with_receivers:
        return Added(int(added), told)
    return Added(len(added), told, [account_ids[int(i)] for i in added])


async def fan_out(account_ids: list, status_id: int, reblog_of_id: int | None, *, own: bool = False) -> list:
    """The same; the accounts whose feed holds the status."""
    return (await add_to_feeds(account_ids, status_id, reblog_of_id, own=own, with_receivers=True)).receivers


async def fill(account_id: int, entries: list[tuple[int, int | None, int]]) -> int:
    """Add (status id, boosted id, author id) entries, oldest first, to a live feed."""
    if not entries:
        return 0
    args: list = [str(account_id), get_settings().feed_max_items, ttl_seconds()]
    for status_id, reblog_of_id, author_id in sorted(entries):
        args += [str(status_id), str(reblog_of_id or 0), str(author_id)]
    return int(await script("FILL")(keys=keys_of(account_id), args=args))


async def remove(account_ids: list[int], statuses: list[tuple[int, int | None]]) -> int:
    """Take statuses, (id, boosted id or None), out of the feeds of `account_ids`; how many
    entries went. A boost standing for its post hands over to one held back (see REMOVE)."""
    if not account_ids or not statuses:
        return 0
    keys = [key for account_id in account_ids for key in keys_of(account_id)]
    args = [str(part) for status_id, reblog_of_id in statuses for part in (status_id, reblog_of_id or 0)]
    return int(await script("REMOVE")(keys=keys, args=args))


async def watching(account_ids: list[int]) -> list[int]:
    """Those of `account_ids` with a home stream open somewhere now (streaming.WATCHING)."""
    if not account_ids:
        return []
    now = time.time()
    scores = await app_redis.feeds().zmscore(WATCHING, [str(a) for a in account_ids])
    return [a for a, until in zip(account_ids, scores) if until is not None and until >= now]


async def everyone_watching() -> list[int]:
    """Every account with a home stream open somewhere now."""
    return [int(a) for a in await app_redis.feeds().zrangebyscore(WATCHING, int(time.time()), "+inf")]


async def first_telling(status_id: int) -> bool:
    """True the first time a pulled author's post is announced to its followers' open streams
    (the fan-out may run again; a feed entry is only added once, this marks the same)."""
    return bool(await app_redis.feeds().set(f"feed:told:{status_id}", "1", nx=True, ex=86400))


async def holding(account_ids: list[int], status_id: int) -> list[int]:
    """Those of `account_ids` whose feed holds `status_id`."""
    if not account_ids:
        return []
    async with app_redis.feeds().pipeline(transaction=False) as pipe:
        for account_id in account_ids:
            pipe.zscore(feed_key(account_id), str(status_id))
        scores = await pipe.execute()
    return [a for a, score in zip(account_ids, scores) if score is not None]


async def showing(account_id: int, status_id: int) -> list[int]:
    """The feed's entries that show `status_id`: the status itself and the boost standing for it
    (the boost's id rounded to its double score), whichever are there."""
    async with app_redis.feeds().pipeline(transaction=False) as pipe:
        pipe.zscore(feed_key(account_id), str(status_id))
        pipe.zscore(reblogs_key(account_id), str(status_id))
        scores = await pipe.execute()
    return [int(score) for score in scores if score is not None]


async def between(account_id: int, low: int, high: int, most: int) -> set[int]:
    """The feed's entries strictly between two ids, the oldest `most` of them at least (all
    of them when there are fewer)."""
    # Inclusive score bounds and a margin, cut exactly by member (see the module docstring).
    members = await app_redis.feeds().zrangebyscore(feed_key(account_id), low, high, start=0,
                                                    num=most + 2 * SCORE_MARGIN)
    return {i for i in map(int, members) if low < i < high}


async def ids(account_id: int) -> list[int]:
    """Every id in a feed, newest first (tests, rebuild checks)."""
    return [int(i) for i in await app_redis.feeds().zrevrange(feed_key(account_id), 0, -1)]
