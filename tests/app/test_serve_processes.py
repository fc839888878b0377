"""`starling serve --processes N`: several web processes on one port, stopped together."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import settings_env
from tests.support.services import ROOT, free_port


def _web_processes(parent: int) -> list[psutil.Process]:
    """uvicorn's worker processes under the supervisor (multiprocessing's helpers aside)."""
    found = []
    for child in psutil.Process(parent).children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.mark.parametrize("workers", [False, True], ids=["web only", "with in-process workers"])
def test_several_web_processes_answer_on_one_port_and_stop_together(settings, app, workers):
    port = free_port()  # not live_port: the shared live server may hold it
    env = dict(settings_env(settings), STARLING_WEB_PROCESSES="2")
    log = Path(settings.var_dir) / "serve-processes.log"  # a file: an unread pipe would fill and stall them
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)] + ([] if workers else ["--no-workers"])
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()  # (a port already taken ends it here)
            try:
                if httpx.get(f"{base}/api/v1/instance", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        # Both web processes come up (uvicorn's supervisor spawns them as children).
        deadline = time.monotonic() + 30
        while len(web := _web_processes(process.pid)) < 2:
            assert time.monotonic() < deadline, f"the second web process did not start:\n{log.read_text()}"
            time.sleep(0.2)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(web) == 2
        if workers:  # the parent runs them (and the outbox sweeper) beside the web processes
            assert b"Starling is serving" in log.read_bytes()
        with httpx.Client(base_url=base, timeout=5) as client:
            for _ in range(20):  # new connections, spread over the processes by the kernel
                assert client.get("/api/v1/instance", headers={"Connection": "close"}).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) is not None
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"web processes left running: {alive}"
    finally:
        if process.poll() is None:
            process.kill()
