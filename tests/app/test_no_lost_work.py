"""No lost work: a fan-out survives a worker killed (SIGKILL) in the middle of it, and a
post whose web process died right after the commit (before enqueueing) still reaches
every follower once a worker sweeps the outbox."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import redis.asyncio as aioredis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import Message

from app import db, jobs
from app import redis as app_redis
from app.models import OutboxJob, Status
from app.models.base import utcnow
from app.services import feeds
from app.services.feeds import store
from tests.conftest import settings_env
from tests.support.crowd import followers_of, holding, make_live
from tests.support.polling import eventually, outbox_size, settled
from tests.support.services import ROOT, separate_redis
from tests.support.world import make_user
from workers.runtime import sweep_outbox_once


async def committed_post(author_id: int, text: str = "to everyone") -> tuple[Status, int]:
    """What statuses.create commits, a status and its fan-out outbox row, as if the web
    process died right after the commit: the job is never enqueued."""
    async with db.session() as session:
        status = Status(uri=f"http://local.invalid/{time.monotonic_ns()}", account_id=author_id, text=text,
                        content=f"<p>{text}</p>")
        session.add(status)
        await session.flush()
        row = OutboxJob(actor_name=feeds.DISTRIBUTE, kwargs={"status_id": status.id}, enqueued_at=utcnow())
        session.add(row)
        await session.flush()
        return status, row.id


async def test_a_post_whose_enqueue_was_lost_is_delivered_by_the_sweeper(settings):
    star, _ = await make_user("star")
    fans = await followers_of(star, 300)
    await make_live(app_redis.feeds(), fans)
    status, _ = await committed_post(star.id)
    assert await holding(app_redis.feeds(), fans, status.id) == 0  # nothing was enqueued
    assert await sweep_outbox_once(stale_after=timedelta(0)) == 1
    await settled()
    assert await holding(app_redis.feeds(), fans, status.id) == 300


async def freeze_once_started(client, fans: list[int], status_id: int, timeout: float = 60) -> None:
    """Wait until the fan-out has reached some followers, then hold every Redis write
    (CLIENT PAUSE ... WRITE) so that the kill that follows finds it mid-way for sure.

    The fans' feeds hold nothing but this post, so one EXISTS over their keys counts the
    followers reached so far in a single cheap command, fast enough to catch the start.
    """
    keys = [store.feed_key(fan) for fan in fans]
    deadline = time.monotonic() + timeout
    while not await client.exists(*keys):
        assert time.monotonic() < deadline, "the worker never started the fan-out"
    await client.execute_command("CLIENT", "PAUSE", "30000", "WRITE")


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--threads", "1"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


async def test_killing_the_worker_in_the_middle_of_a_fan_out_loses_nothing(settings):
    url, claimed = separate_redis(settings.redis_url)
    other = aioredis.Redis.from_url(url, decode_responses=True)
    await other.flushdb()
    star, _ = await make_user("star")
    fans = await followers_of(star, 3000)
    await make_live(other, fans)
    status, outbox_id = await committed_post(star.id)
    # The post's message as the web process enqueues it after the commit, on the worker's broker.
    broker = RedisBroker(url=url)
    broker.declare_queue(jobs.QUEUE)
    broker.enqueue(Message(queue_name=jobs.QUEUE, actor_name=feeds.DISTRIBUTE, args=(),
                           kwargs={"outbox_id": outbox_id, "status_id": status.id}, options={}))
    env = {**settings_env(settings), "STARLING_REDIS_URL": url,
           # two followers per Redis call, so that the kill lands mid-way; a lost job is
           # swept again after 3 s (the Dramatiq broker would redeliver it only after its
           # 60 s heartbeat timeout)
           "STARLING_FANOUT_BATCH_SIZE": "2", "STARLING_OUTBOX_STALE_SECONDS": "3",
           "STARLING_OUTBOX_SWEEP_SECONDS": "1"}
    log = Path(settings.var_dir) / "worker-kill.log"
    worker = start_worker(env, log)
    try:
        await freeze_once_started(other, fans, status.id)
        worker.kill()  # SIGKILL: no clean-up, the message is not acknowledged
        worker.wait(timeout=10)
        await other.execute_command("CLIENT", "UNPAUSE")
        partial = await holding(other, fans, status.id)
        assert 0 < partial < len(fans), f"the kill did not land mid-way ({partial}); see {log}"
        assert await outbox_size() == 1  # the job is still owed

        worker = start_worker(env, log)
        done = await eventually(lambda: holding(other, fans, status.id), until=lambda n: n == len(fans),
                                timeout=90, every=0.2)
        assert done == len(fans)
        await eventually(outbox_size, until=lambda n: n == 0, timeout=30)
        # Every feed holds it exactly once (a sorted set cannot hold it twice, and nothing else came in).
        assert {await other.zcard(f"feed:home:{fan}") for fan in fans[:50]} == {1}
    finally:
        await other.execute_command("CLIENT", "UNPAUSE")
        worker.kill()
        worker.wait(timeout=10)
        broker.close()
        await other.flushdb()
        await other.aclose()
        if claimed is not None:
            claimed.release()
