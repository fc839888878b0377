"""The `starling` command line: serve, worker, migrate and account administration.

This is the one app module allowed to import workers/ (it starts them).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading

import uvicorn

from app import db, jobs
from app import redis as app_redis
from app.config import Settings, configure
from app.embedded import EmbeddedServices
from app.errors import ApiError
from app.main import create_app
from app.migrate import upgrade
from app.services import admin_accounts, search, token_owners
from workers.pool import WorkerPool
from workers.runtime import boot


def _resolve(settings: Settings) -> tuple[Settings, EmbeddedServices]:
    embedded = EmbeddedServices(settings.var_dir)
    return embedded.start(settings), embedded


def serve(args) -> int:
    settings, embedded = _resolve(Settings.from_env())
    try:
        upgrade(settings.database_url)
    except BaseException:
        embedded.stop()
        raise
    pool = None if args.no_workers else WorkerPool(settings.inline_workers)
    processes = args.processes or settings.web_processes
    if processes > 1:
        return _serve_processes(settings, embedded, pool, args, processes)
    # Stopped in the app's shutdown, in this order: workers, then the servers they use.
    app = create_app(settings, on_shutdown=[pool.stop, embedded.stop] if pool else [embedded.stop])
    if pool:
        pool.start()
    server = uvicorn.Server(uvicorn.Config(app, host=args.host or settings.host, port=args.port or settings.port,
                                           proxy_headers=True, log_level="info",
                                           # Open streaming connections must not hold a shutdown forever.
                                           timeout_graceful_shutdown=10))
    print(f"Starling is serving {settings.base_url} on http://{server.config.host}:{server.config.port}", flush=True)
    server.run()
    return 0


def _serve_processes(settings: Settings, embedded: EmbeddedServices, pool: WorkerPool | None, args,
                     processes: int) -> int:
    """Several web processes on one socket (uvicorn's supervisor); the workers and the embedded
    servers stay in this parent process, which stops them once the web processes have exited."""
    os.environ.update({"STARLING_DATABASE_URL": settings.database_url, "STARLING_REDIS_URL": settings.redis_url,
                       "STARLING_SECRET_KEY": settings.secret_key})
    host, port = args.host or settings.host, args.port or settings.port
    try:
        if pool:
            boot(settings)  # this parent builds no app: connect it for its workers and sweeper
            pool.start()
        print(f"Starling is serving {settings.base_url} on http://{host}:{port} ({processes} web processes)",
              flush=True)
        uvicorn.run("app.main:app_from_env", factory=True, workers=processes, host=host, port=port,
                    proxy_headers=True, log_level="info", timeout_graceful_shutdown=10)
    finally:
        if pool:
            pool.stop()
        embedded.stop()
    return 0


def worker(args) -> int:
    settings = Settings.from_env()
    if not settings.database_url or not settings.redis_url:
        print("starling worker needs STARLING_DATABASE_URL and STARLING_REDIS_URL "
              "(with the embedded default, `starling serve` runs the workers itself)", file=sys.stderr)
        return 2
    boot(settings)
    pool = WorkerPool(args.threads)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    pool.start()
    print("Starling workers running", flush=True)
    stop.wait()
    pool.stop()
    return 0


def migrate(args) -> int:
    settings, embedded = _resolve(Settings.from_env())
    try:
        upgrade(settings.database_url)
    finally:
        embedded.stop()
    print("migrations applied")
    return 0


def _with_database(coroutine_factory) -> int:
    """Run an admin coroutine against the configured (or embedded) database."""
    settings, embedded = _resolve(Settings.from_env())
    try:
        upgrade(settings.database_url)
        configure(settings)
        db.connect(settings.database_url, pool_size=2)
        jobs.setup_broker(settings.redis_url)  # admin actions may send mail (through the outbox)
        app_redis.connect(settings.redis_url, settings.feeds_redis_url)  # a changed user tells the web processes (token_owners)
        token_owners.watch_changes()

        async def run():
            try:
                return await coroutine_factory()
            finally:
                await app_redis.close()
                await db.dispose()

        return asyncio.run(run())
    finally:
        embedded.stop()


def accounts_cmd(args) -> int:
    action = {
        "approve": lambda: admin_accounts.approve(args.username),
        "reject": lambda: admin_accounts.reject(args.username),
        "confirm": lambda: admin_accounts.confirm(args.username),
        "role": lambda: admin_accounts.set_role(args.username, args.role),
        "pending": admin_accounts.list_pending,
    }[args.action]

    async def run():
        try:
            message = await action()
        except ApiError as refused:  # unknown username, not pending...: say so, without a traceback
            print(refused.message, file=sys.stderr)
            return 1
        print(message)
        return 0

    return _with_database(run)


def _progress_bar(label: str, width: int = 30):
    """A one-line text progress bar on stderr: `label [#####.....]  50% 5000/10000`."""
    def show(done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(share * width)
        end = "\n" if done >= total else ""
        print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {share:4.0%} {done}/{total}",
              end=end, file=sys.stderr, flush=True)
    return show


def search_cmd(args) -> int:
    """`starling search reindex`: rebuild the status search index of the configured backend."""
    async def run():
        backend = search.current_backend()
        total = await backend.reindex(progress=_progress_bar(f"reindexing ({backend.name})"))
        print(f"search index rebuilt ({backend.name}): {total} statuses")
        return 0

    return _with_database(run)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="starling", description="A federated social server.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the instance (embedded PostgreSQL and Redis unless configured)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-workers", action="store_true", help="do not run Dramatiq workers in this process")
    p.add_argument("--processes", type=int, help="web server processes (default STARLING_WEB_PROCESSES, 1)")
    p.set_defaults(func=serve)

    p = sub.add_parser("worker", help="run background workers (needs configured PostgreSQL and Redis)")
    p.add_argument("--threads", type=int, default=4)
    p.set_defaults(func=worker)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=migrate)

    p = sub.add_parser("accounts", help="administer local accounts")
    p.add_argument("action", choices=["approve", "reject", "confirm", "role", "pending"])
    p.add_argument("username", nargs="?")
    p.add_argument("--role", choices=["user", "moderator", "admin"], default="user")
    p.set_defaults(func=accounts_cmd)

    p = sub.add_parser("search", help="search index maintenance")
    p.add_argument("action", choices=["reindex"])
    p.set_defaults(func=search_cmd)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
