"""Dramatiq's Redis broker, with workers woken up by new messages instead of polling for them.

Dramatiq's Redis consumer looks for messages and, finding none, sleeps with an exponential
backoff up to the worker timeout (a second), so a job enqueued into an idle worker waited
half a second on average before anyone looked. Here every enqueue also PUBLISHes the
queue's name on one channel; each worker process keeps one pub/sub connection (a `Waker`
thread) that turns those into thread events, and its consumers wait on their queue's event
instead of sleeping. The backoff stays as the fallback: a lost wake-up (the pub/sub
connection dropped) costs at most the old polling delay, never the message.

    broker = WakingRedisBroker(url=redis_url)
    broker.enqueue_all([message, ...])     # one wake-up per queue, after all of them are in
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Iterable

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff
from dramatiq.errors import ConnectionClosed
from dramatiq.message import Message

log = logging.getLogger("starling.jobs")

# A consumer whose prefetch is used up has nothing to fetch until a job ends; it checks
# again this often (a thread wake-up, no Redis call).
BUSY_RECHECK_SECONDS = 0.005
RECONNECT_SECONDS = 1.0


class Waker:
    """One pub/sub connection per worker process: a message on `channel` names a queue that
    just received work; whoever waits on that queue's event is woken."""

    def __init__(self, client: redis.Redis, channel: str):
        self.client, self.channel = client, channel
        self._events: dict[str, threading.Event] = defaultdict(threading.Event)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub = None

    def event(self, queue_name: str) -> threading.Event:
        with self._lock:
            return self._events[queue_name]

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._listen, name="dramatiq-waker", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except Exception:  # closing a connection the reader is blocked on may fail; we are leaving anyway
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(self.channel)
                self._wake_all()  # whatever was enqueued while we were not listening
                while not self._stop.is_set():
                    message = self._pubsub.get_message(timeout=1.0)
                    if message is not None:
                        data = message.get("data")
                        self.event(data.decode() if isinstance(data, bytes) else str(data)).set()
            except Exception as error:  # any failure: reconnect; or, when stopping, the closed connection
                if self._stop.is_set():
                    return
                log.warning("job wake-up channel failed (%s): polling until it is back", error)
                self._stop.wait(RECONNECT_SECONDS)
            finally:
                try:
                    self._pubsub.close()
                except Exception:  # already broken
                    pass

    def _wake_all(self) -> None:
        with self._lock:
            events = list(self._events.values())
        for event in events:
            event.set()


class _WakeableConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, waiting on its queue's wake-up event rather than sleeping."""

    def __init__(self, broker: "WakingRedisBroker", queue_name: str, prefetch: int, timeout: int):
        super().__init__(broker, queue_name, prefetch, timeout)
        self.wake = broker.waker.event(queue_name)

    def __next__(self):
        # Cleared before looking, so that a message enqueued from now on ends the wait below.
        self.wake.clear()
        if self.message_cache:
            return super().__next__()  # Dramatiq's own path: hand out a fetched message
        if self.outstanding_message_count >= self.prefetch:
            # Full: nothing may be fetched before a job ends, and acks are handled between calls.
            time.sleep(BUSY_RECHECK_SECONDS)
            return None
        try:
            self.message_cache = self.broker.do_fetch(self.queue_name, self.prefetch - self.outstanding_message_count)
        except redis.ConnectionError as error:
            raise ConnectionClosed(error) from None
        if self.message_cache:
            return super().__next__()
        self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
        self.wake.wait(backoff_ms / 1000)
        return None


class WakingRedisBroker(RedisBroker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Per Redis database, as every pub/sub channel (app.redis.channel): workers of instances
        # (or test sessions) on other databases of one server are not woken for nothing.
        self.wake_channel = f"{self.namespace}:{self.client.connection_pool.connection_kwargs.get('db', 0)}:wake"
        self.waker = Waker(self.client, self.wake_channel)

    @property
    def consumer_class(self):
        return _WakeableConsumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        self.waker.start()  # only processes that consume (workers) listen for wake-ups
        return super().consume(queue_name, prefetch, timeout)

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        enqueued = super().enqueue(message, delay=delay)
        if delay is None:  # delayed messages are found by the delay queue's own polling
            self._wake([message.queue_name])
        return enqueued

    def enqueue_all(self, messages: Iterable[Message]) -> None:
        """Enqueue several messages now, then wake each of their queues once."""
        queues: list[str] = []
        for message in messages:
            super().enqueue(message)
            if message.queue_name not in queues:
                queues.append(message.queue_name)
        self._wake(queues)

    def _wake(self, queue_names: list[str]) -> None:
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for name in queue_names:
                    pipe.publish(self.wake_channel, name)
                pipe.execute()
        except redis.RedisError as error:  # the message is in: the consumers' polling finds it
            log.warning("could not wake the workers (%s)", error)

    def close(self) -> None:
        self.waker.stop()
        super().close()
