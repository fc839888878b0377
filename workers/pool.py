"""Run the Dramatiq workers and the outbox sweeper, in `starling worker` or inside `starling serve`.

One Dramatiq worker consumes every declared queue (app.jobs: "default" and "prompt"); its
consumers are woken by enqueues (app/broker.py) rather than polling."""
from __future__ import annotations

import asyncio
import logging
import threading

import dramatiq

from app import db, jobs
from app.config import get_settings
from app.services import notifications
from workers.runtime import load_actors, sweep_outbox_once

log = logging.getLogger("starling.workers")


class WorkerPool:
    def __init__(self, threads: int = 2):
        self.threads = threads
        self._worker: dramatiq.Worker | None = None
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def start(self) -> None:
        load_actors()
        self._worker = dramatiq.Worker(jobs.broker(), worker_threads=self.threads)
        self._worker.start()
        self._sweeper = threading.Thread(target=self._sweep_forever, name="outbox-sweeper", daemon=True)
        self._sweeper.start()

    def _sweep_forever(self) -> None:
        async def loop() -> None:
            while not self._stop.is_set():
                try:
                    count = await sweep_outbox_once()
                    if count:
                        log.info("re-enqueued %d outbox jobs", count)
                    await notifications.defer_ended_polls()  # poll notifications, at most a sweep late
                except Exception:  # a database hiccup must not kill the sweeper
                    log.exception("outbox sweep failed")
                await asyncio.to_thread(self._stop.wait, get_settings().outbox_sweep_seconds)
            await db.dispose()

        asyncio.run(loop())

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.stop(timeout=10_000)
            jobs.broker().waker.stop()
        if self._sweeper is not None:
            self._sweeper.join(timeout=15)
