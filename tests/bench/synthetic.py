"""A synthetic instance for the benchmarks, written straight into PostgreSQL with COPY.

    python -m tests.bench.synthetic --accounts 10000 --posts 1000000 \
        --database-url postgresql://postgres@127.0.0.1:5432/starling_bench

Going through the API would take hours (an RSA key pair and an argon2 hash per
account, a transaction per post), so every synthetic account shares one key pair
and every user one password hash (PASSWORD), and rows are streamed with COPY.
The schema is the real one: the database is created empty, migrated with
app.migrate.upgrade, loaded with the migrations' foreign keys and secondary
indexes set aside (and recreated from their own definitions afterwards, which is
much faster than maintaining them row by row), then vacuumed and analysed.

What it builds (all deterministic for a given seed):
- `accounts` local accounts with users (confirmed, approved, most active in the
  last few days), following 50-500 others chosen by preferential attachment, so
  a few accounts are followed by thousands and most by a handful;
- `celebrities` of them (celebrity_1, ...) followed by `followers` extra
  follower-only accounts (fan000001, ...): those exist only so that a post can
  have 100,000 local followers;
- `posts` statuses over the last `days` days, ids made from their timestamps as
  starling_id() makes them ((ms << 16) | sequence), text drawn from a Zipf-like
  vocabulary (see search_terms() for named rare, mid-frequency and common
  terms), with hashtags, mentions, replies and boosts, and counts (statuses,
  followers, following, replies, reblogs) that agree with the rows.
"""
from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import psycopg

from app.migrate import upgrade
from app.security import generate_key_pair, hash_password
from app.services import status_text
from app.text import hashtag_key

PASSWORD = "synthetic instance password"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/starling_bench"
VOCABULARY_SIZE = 30_000
TAG_VOCABULARY_SIZE = 2_000
ZIPF_EXPONENT = 1.07
# The most frequent words of English first, so the text reads like text; invented words after them.
ENGLISH = (
    "the be to of and a in that have it for not on with he as you do at this but his by from they we say her "
    "she or an will my one all would there their what so up out if about who get which go me when make can like "
    "time no just him know take people into year your good some could them see other than then now look only "
    "come its over think also back after use two how our work first well way even new want because any these "
    "give day most us coffee morning city train music garden rain book friend night weekend photo code bird"
).split()
CONSONANTS = "bdfghklmnprstvz"
VOWELS = "aeiou"
LOADED_TABLES = ("accounts", "users", "follows", "tags", "statuses", "status_tags", "status_mentions")


@dataclass(frozen=True)
class Params:
    accounts: int = 10_000
    posts: int = 1_000_000
    followers: int = 100_000  # follower-only accounts, following every celebrity
    celebrities: int = 3
    days: int = 90
    min_follows: int = 50
    max_follows: int = 500
    domain: str = "starling.bench"
    scheme: str = "http"
    seed: int = 20261122
    # shares of posts
    replies: float = 0.10
    boosts: float = 0.03
    mentions: float = 0.08
    hashtags: float = 0.15
    inactive: float = 0.15  # share of the main accounts last active 30-80 days ago

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"


@dataclass
class Counts:
    """What the generator wrote, for its report and for the invariant test."""

    accounts: int = 0
    users: int = 0
    follows: int = 0
    statuses: int = 0
    replies: int = 0
    boosts: int = 0
    mentions: int = 0
    status_tags: int = 0
    tags: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# --- deterministic vocabularies -------------------------------------------------------------

def _invented_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    words: list[str] = []
    while len(words) < count:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables))
        if rng.random() < 0.4:
            word += rng.choice(CONSONANTS)
        if word not in taken:
            taken.add(word)
            words.append(word)
    return words


def vocabulary(seed: int) -> list[str]:
    """Words by rank: rank r is drawn with probability proportional to 1 / r**ZIPF_EXPONENT."""
    taken = set(ENGLISH)
    return list(ENGLISH) + _invented_words(random.Random(seed), VOCABULARY_SIZE - len(ENGLISH), taken)


def tag_vocabulary(seed: int) -> list[str]:
    return _invented_words(random.Random(seed + 1), TAG_VOCABULARY_SIZE, set(vocabulary(seed)))


def usernames(seed: int, count: int, celebrities: int) -> list[str]:
    """Main accounts' usernames: the celebrities first, then invented names with a number."""
    rng = random.Random(seed + 2)
    names = [f"celebrity_{i + 1}" for i in range(min(celebrities, count))]
    taken: set[str] = set()
    for i, word in enumerate(_invented_words(rng, count - len(names), taken)):
        names.append(f"{word}{i % 100}")
    return names


def zipf_cumulative(size: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank ** exponent) for rank in range(1, size + 1)))


def search_terms(seed: int = Params.seed) -> dict[str, str]:
    """Named queries for the search benchmark, by how many posts contain them. With 1,000,000
    posts: common ("say", not a stop word) ~ 50,000 posts, mid ~ 1,000, rare ~ 40; the two words
    ~ 6,000 and ~ 1,900 posts each; the hashtag ~ 1,000 posts; the prefix begins a few usernames."""
    words, tags = vocabulary(seed), tag_vocabulary(seed)
    return {
        "common": words[26],
        "mid": words[999],
        "rare": words[19_999],
        "two_word": f"{words[199]} {words[599]}",
        "hashtag": f"#{tags[29]}",
        "account_prefix": usernames(seed, 10, 0)[3][:3],
    }


# --- the graph and the posts ------------------------------------------------------------------

def snowflake(moment: datetime, sequence: int) -> int:
    """starling_id(ts) of migrations/versions/0001: milliseconds since the epoch << 16 | sequence."""
    return (math.floor(moment.timestamp() * 1000) << 16) | (sequence & 65535)


class Ids:
    """Snowflakes for rows created at given moments, unique within the run: a sequence per
    millisecond, moving on to the next millisecond once 65,536 ids share one."""

    def __init__(self) -> None:
        self._used: dict[int, int] = {}

    def at(self, moment: datetime) -> int:
        ms = math.floor(moment.timestamp() * 1000)
        while (sequence := self._used.get(ms, 0)) > 65535:
            ms += 1
        self._used[ms] = sequence + 1
        return (ms << 16) | sequence


def follow_graph(rng: random.Random, params: Params) -> list[tuple[int, int]]:
    """(follower, target) index pairs among the main accounts, by preferential attachment: an
    urn holding every account a number of times that falls with a random popularity rank
    (5000 / rank, at least once), and each follow picks a target from the urn (nine times in
    ten; otherwise any account) and puts that target back in once more, so the followed get
    followed more. Every account follows 50-500 distinct others, log-uniformly (most around a
    hundred). At 10,000 accounts the median account has ~130 followers, the top 1% over 1,400
    and the top ten several thousand."""
    n = params.accounts
    ranks = list(range(1, n + 1))
    rng.shuffle(ranks)
    urn = [i for i in range(n) for _ in range(max(1, 5000 // ranks[i]))]
    edges: list[tuple[int, int]] = []
    order = list(range(n))
    rng.shuffle(order)
    low, high = math.log(params.min_follows), math.log(params.max_follows)
    for follower in order:
        wanted = min(int(math.exp(rng.uniform(low, high))), n - 1)
        chosen: set[int] = set()
        attempts = 0
        while len(chosen) < wanted and attempts < wanted * 20:
            attempts += 1
            target = rng.choice(urn) if rng.random() < 0.9 else rng.randrange(n)
            if target != follower and target not in chosen:
                chosen.add(target)
                urn.append(target)
        edges.extend((follower, target) for target in chosen)
    return edges


def _post_times(rng: random.Random, params: Params, now: datetime) -> list[datetime]:
    span = params.days * 86400.0
    offsets = sorted(rng.random() * span for _ in range(params.posts))
    start = now - timedelta(days=params.days)
    return [start + timedelta(seconds=o) for o in offsets]


# --- COPY ---------------------------------------------------------------------------------------

def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows) -> int:
    written = 0
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


def _set_aside_constraints(conn: psycopg.Connection) -> list[str]:
    """Drop the loaded tables' foreign keys, unique constraints and secondary indexes, returning
    the statements that recreate them exactly as the migrations made them."""
    tables = list(LOADED_TABLES)
    restore: list[str] = []
    drops: list[str] = []
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') ORDER BY contype DESC",
        (tables,),
    ).fetchall()
    owned = {name for _, name, _, _ in constraints}
    indexes = conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = ANY(%s) AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))",
        (tables,),
    ).fetchall()
    for table, name, kind, definition in constraints:  # foreign keys first ('f' > 'u')
        drops.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for _, name, definition in indexes:
        if name not in owned:
            drops.append(f'DROP INDEX "{name}"')
            restore.append(definition)
    for table, name, kind, definition in sorted(constraints, key=lambda c: c[2], reverse=True):
        if kind == "u":
            restore.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    restore.extend(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                   for table, name, kind, definition in constraints if kind == "f")
    for statement in drops:
        conn.execute(statement)
    return restore


# --- the generator ------------------------------------------------------------------------------

class Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = self.last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def step(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self.last, 2)
        if not self.quiet:
            print(f"  {name:<36} {now - self.last:7.1f}s   (total {now - self.started:7.1f}s)", flush=True)
        self.last = now


def generate(database_url: str, params: Params = Params(), *, fresh: bool = True, quiet: bool = False) -> Counts:
    """Build the instance in `database_url`. fresh: drop and recreate that database and migrate
    it; otherwise the (migrated) database must have no accounts yet."""
    progress = Progress(quiet)
    if fresh:
        recreate_database(database_url)
        upgrade(database_url)
        progress.step("create and migrate database")
    rng = random.Random(params.seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ids = Ids()
    counts = Counts()
    base = params.base_url

    private_pem, public_pem = generate_key_pair()
    password_hash = hash_password(PASSWORD)
    progress.step("one key pair and one password hash")

    # Accounts: main ones, then the follower-only fans.
    names = usernames(params.seed, params.accounts, params.celebrities)
    names += [f"fan{i + 1:06d}" for i in range(params.followers)]
    total_accounts = len(names)
    created = [now - timedelta(days=100 + rng.random() * 300) for _ in range(total_accounts)]
    account_ids = [ids.at(moment) for moment in created]
    followers_count = [0] * total_accounts
    following_count = [0] * total_accounts
    statuses_count = [0] * total_accounts
    last_status_at: list[datetime | None] = [None] * total_accounts

    # Follows: the preferential-attachment graph among main accounts, plus every fan -> every celebrity.
    edges = follow_graph(rng, params)
    celebrities = list(range(min(params.celebrities, params.accounts)))
    fans = range(params.accounts, total_accounts)
    edges.extend((fan, celebrity) for fan in fans for celebrity in celebrities)
    for follower, target in edges:
        following_count[follower] += 1
        followers_count[target] += 1
    progress.step(f"follow graph ({len(edges):,} follows)")

    # Posts. Authors post in proportion to a Zipf-like activity weight (a random rank each).
    activity_rank = list(range(1, params.accounts + 1))
    rng.shuffle(activity_rank)
    author_weights = list(itertools.accumulate(1.0 / (r ** 0.8) for r in activity_rank))
    words = vocabulary(params.seed)
    word_weights = zipf_cumulative(len(words))
    tags = tag_vocabulary(params.seed)
    tag_weights = zipf_cumulative(len(tags))
    popular_weights = list(itertools.accumulate(followers_count[i] + 1 for i in range(params.accounts)))
    times = _post_times(rng, params, now)
    authors = rng.choices(range(params.accounts), cum_weights=author_weights, k=params.posts)
    lengths = [rng.randint(4, 24) for _ in range(params.posts)]
    drawn = rng.choices(words, cum_weights=word_weights, k=sum(lengths))
    progress.step(f"draw {len(drawn):,} words")

    def tag_link(name: str) -> str:
        return f"{base}/tags/{hashtag_key(name)}"

    def account_ref(index: int) -> SimpleNamespace:
        username = names[index]
        return SimpleNamespace(username=username, uri=f"{base}/users/{username}", url=f"{base}/@{username}")

    statuses: list[list] = []  # rows in COPY column order (STATUS_COLUMNS)
    status_tags: list[tuple[int, int]] = []
    mentions: list[tuple[int, int, int, bool]] = []
    tag_ids: dict[int, int] = {}
    tag_last: dict[int, datetime] = {}
    replies_count: list[int] = []
    reblogs_count: list[int] = []
    boosted: set[tuple[int, int]] = set()
    position = 0
    for i in range(params.posts):
        author, moment = authors[i], times[i]
        status_id = ids.at(moment)
        author_name = names[author]
        uri = f"{base}/users/{author_name}/statuses/{status_id}"
        url = f"{base}/@{author_name}/{status_id}"
        chunk = drawn[position:position + lengths[i]]
        position += lengths[i]
        roll = rng.random()
        visibility = "public" if roll < 0.9 else ("unlisted" if roll < 0.95 else "private")

        if i > 10 and rng.random() < params.boosts:  # a boost of a recent public original
            original = max(0, i - 1 - int(rng.expovariate(1 / 500)))
            row = statuses[original]
            if row[7] is None and row[9] == "public" and row[4] != account_ids[author] \
                    and (author, original) not in boosted:
                boosted.add((author, original))
                reblogs_count[original] += 1
                statuses.append([status_id, f"{uri}/activity", url, True, account_ids[author], None, None,
                                 row[0], None, "public", "", "", moment])
                replies_count.append(0)
                reblogs_count.append(0)
                statuses_count[author] += 1
                last_status_at[author] = moment
                counts.boosts += 1
                continue

        mentioned: list[int] = []
        in_reply_to = in_reply_to_account = None
        conversation = status_id
        parent = None
        if i > 10 and rng.random() < params.replies:
            parent = max(0, i - 1 - int(rng.expovariate(1 / 200)))
            if statuses[parent][7] is not None:  # a boost: reply to a fresh original instead
                parent = None
        if parent is not None:
            prow = statuses[parent]  # row i is always post i, so authors[parent] wrote it
            in_reply_to, conversation, in_reply_to_account = prow[0], prow[8] or prow[0], prow[4]
            if authors[parent] != author:
                mentioned.append(authors[parent])
            if visibility in ("public", "unlisted"):
                replies_count[parent] += 1
            counts.replies += 1
        elif rng.random() < params.mentions:
            other = bisect.bisect_left(popular_weights, rng.random() * popular_weights[-1])
            if other != author:
                mentioned.append(other)

        text = " ".join(chunk)
        text = text[0].upper() + text[1:] + "."
        if mentioned:
            text = " ".join(f"@{names[m]}" for m in mentioned) + " " + text
        chosen_tags: list[int] = []
        if rng.random() < params.hashtags:
            for _ in range(rng.choice((1, 1, 2))):
                t = bisect.bisect_left(tag_weights, rng.random() * tag_weights[-1])
                if t not in chosen_tags:
                    chosen_tags.append(t)
            text += " " + " ".join(f"#{tags[t]}" for t in chosen_tags)
        if mentioned or chosen_tags:
            refs = {status_text.mention_key(names[m], None): account_ref(m) for m in mentioned}
            content = status_text.render(text, refs, tag_link)
        else:
            content = f"<p>{text}</p>"  # plain words: exactly what render() gives
        statuses.append([status_id, uri, url, True, account_ids[author], in_reply_to, in_reply_to_account,
                         None, conversation, visibility, text, content, moment])
        replies_count.append(0)
        reblogs_count.append(0)
        for m in mentioned:
            mentions.append((ids.at(moment), status_id, account_ids[m], False))
        for t in chosen_tags:
            if t not in tag_ids:
                tag_ids[t] = ids.at(moment)
            tag_last[t] = moment
            status_tags.append((status_id, tag_ids[t]))
        statuses_count[author] += 1
        last_status_at[author] = moment
    counts.mentions, counts.status_tags, counts.tags = len(mentions), len(status_tags), len(tag_ids)
    progress.step(f"compose {len(statuses):,} posts")

    with psycopg.connect(database_url) as conn:
        if conn.execute("SELECT count(*) FROM accounts").fetchone()[0]:
            raise SystemExit("the database already has accounts: the generator needs an empty instance")
        conn.execute("SET maintenance_work_mem = '256MB'")
        restore = _set_aside_constraints(conn)

        def account_rows():
            for i, username in enumerate(names):
                uri = f"{base}/users/{username}"
                display = username.split("_")[0].capitalize() if i >= params.accounts else \
                    username.rstrip("0123456789").replace("_", " ").title()
                yield (account_ids[i], username, None, display, "", "", "[]", uri, f"{base}/@{username}",
                       f"{uri}/inbox", f"{uri}/outbox", f"{base}/inbox", f"{uri}/followers", f"{uri}/following",
                       public_pem, private_pem, False, False, False, True, True, False,
                       followers_count[i], following_count[i], statuses_count[i], last_status_at[i],
                       created[i], created[i])

        counts.accounts = _copy(conn, "accounts", ACCOUNT_COLUMNS, account_rows())

        def user_rows():
            for i, username in enumerate(names):
                if i < params.accounts and i >= params.celebrities and rng.random() < params.inactive:
                    active = now - timedelta(days=30 + rng.random() * 50)
                else:
                    active = now - timedelta(seconds=rng.random() * 3 * 86400)
                yield (ids.at(created[i]), account_ids[i], f"{username}@synthetic.example", password_hash,
                       "en", "user", "", created[i], True, False, created[i], "public", False, created[i],
                       active, active)

        counts.users = _copy(conn, "users", USER_COLUMNS, user_rows())
        progress.step(f"COPY {counts.accounts:,} accounts and users")

        def follow_rows():
            for follower, target in edges:
                moment = max(created[follower], created[target]) + timedelta(seconds=3600 + rng.random() * 86400)
                yield (ids.at(moment), account_ids[follower], account_ids[target], True, False, moment)

        counts.follows = _copy(conn, "follows", FOLLOW_COLUMNS, follow_rows())
        progress.step(f"COPY {counts.follows:,} follows")

        _copy(conn, "tags", ["id", "name", "key", "created_at", "last_status_at"],
              ((tag_ids[t], tags[t], hashtag_key(tags[t]), tag_last[t], tag_last[t]) for t in tag_ids))

        def status_rows():
            for index, row in enumerate(statuses):
                moment = row[12]
                yield (*row[:12], "", False, "en", replies_count[index], reblogs_count[index], 0, moment, moment,
                       row[5] is not None)  # a reply: it has a parent (in_reply_to_id)

        counts.statuses = _copy(conn, "statuses", STATUS_COLUMNS, status_rows())
        _copy(conn, "status_tags", ["status_id", "tag_id"], status_tags)
        _copy(conn, "status_mentions", ["id", "status_id", "account_id", "silent"], mentions)
        progress.step(f"COPY {counts.statuses:,} statuses, tags, mentions")
        for statement in restore:
            conn.execute(statement)
        conn.commit()
        progress.step(f"recreate {len(restore)} indexes and constraints")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    progress.step("VACUUM ANALYZE")
    counts.seconds = progress.seconds
    counts.seconds["total"] = round(time.monotonic() - progress.started, 2)
    if not quiet:
        print(f"done in {counts.seconds['total']:.1f}s: {counts.accounts:,} accounts "
              f"({params.accounts:,} main, {params.followers:,} follower-only), {counts.follows:,} follows, "
              f"{counts.statuses:,} statuses ({counts.replies:,} replies, {counts.boosts:,} boosts), "
              f"{counts.mentions:,} mentions, {counts.tags:,} tags on {counts.status_tags:,} posts", flush=True)
    return counts


ACCOUNT_COLUMNS = [
    "id", "username", "domain", "display_name", "note", "note_source", "fields", "uri", "url", "inbox_url",
    "outbox_url", "shared_inbox_url", "followers_url", "following_url", "public_key_pem", "private_key_pem",
    "locked", "bot", '"group"', "discoverable", "indexable", "hide_collections", "followers_count",
    "following_count", "statuses_count", "last_status_at", "created_at", "updated_at",
]
USER_COLUMNS = [
    "id", "account_id", "email", "password_hash", "locale", "role", "reason", "confirmed_at", "approved",
    "disabled", "password_changed_at", "default_privacy", "default_sensitive", "created_at", "last_sign_in_at",
    "last_active_at",
]
FOLLOW_COLUMNS = ["id", "account_id", "target_account_id", "show_reblogs", "notify", "created_at"]
STATUS_COLUMNS = [
    "id", "uri", "url", "local", "account_id", "in_reply_to_id", "in_reply_to_account_id", "reblog_of_id",
    "conversation_id", "visibility", "text", "content", "spoiler_text", "sensitive", "language",
    "replies_count", "reblogs_count", "favourites_count", "created_at", "updated_at", "reply",
]


def recreate_database(database_url: str) -> None:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to recreate database {name!r}")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.synthetic", description=__doc__.split("\n\n")[0])
    defaults = Params()
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="database to DROP, recreate, migrate and fill (default: %(default)s)")
    parser.add_argument("--accounts", type=int, default=defaults.accounts)
    parser.add_argument("--posts", type=int, default=defaults.posts)
    parser.add_argument("--followers", type=int, default=defaults.followers,
                        help="follower-only accounts following every celebrity (default: %(default)s)")
    parser.add_argument("--celebrities", type=int, default=defaults.celebrities)
    parser.add_argument("--domain", default=defaults.domain)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    params = Params(accounts=args.accounts, posts=args.posts, followers=args.followers,
                    celebrities=args.celebrities, domain=args.domain, seed=args.seed)
    print(f"synthetic instance into {args.database_url}: {params}", flush=True)
    generate(args.database_url, params)
    print("search terms:", search_terms(params.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
