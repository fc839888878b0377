"""`starling serve` with nothing configured: embedded PostgreSQL and Redis under var/,
a clean stop on SIGTERM, and everything still there after a restart."""
from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from tests.support.services import ROOT, free_port


def _env(var_dir, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARLING_")}
    env.update(STARLING_VAR_DIR=str(var_dir), STARLING_DOMAIN=f"127.0.0.1:{port}", STARLING_RATE_LIMITS="false")
    return env


def _start(var_dir, port: int, log) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
                               cwd=ROOT, env=_env(var_dir, port), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "server exited during start-up"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/instance", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    pytest.fail("embedded server did not start")


def _first_mail(mail_dir, seconds: float = 30.0) -> email.message.EmailMessage:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        written = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
        if written:
            return email.message_from_bytes(written[0].read_bytes(), policy=email.policy.default)
        time.sleep(0.2)
    pytest.fail(f"no mail written to {mail_dir}")


def _postgres_running(var_dir) -> bool:
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "postgres" in cmdline and str(var_dir / "postgres") in cmdline:
            return True
    return False


def test_embedded_instance_survives_a_restart(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    var_dir = tmp_path / "var"
    with open(tmp_path / "server.log", "wb") as log:
        process = _start(var_dir, port, log)
        try:
            app = httpx.post(f"{base}/api/v1/apps", data={"client_name": "restart test",
                                                           "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                           "scopes": "read write"}).json()
            token = httpx.post(f"{base}/oauth/token", data={
                "grant_type": "client_credentials", "client_id": app["client_id"],
                "client_secret": app["client_secret"], "scope": "read write"}).json()["access_token"]
            created = httpx.post(f"{base}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, data={
                "username": "survivor", "email": "survivor@example.com",
                "password": "a long and unusual passphrase", "agreement": "true", "locale": "en"})
            assert created.status_code == 200, created.text
            # No mail server is configured: the confirmation is written under var/mail/.
            mail = _first_mail(var_dir / "mail")
            written = next((var_dir / "mail").glob("*.eml"))
            assert written.stat().st_mode & 0o077 == 0  # it holds a sign-in link: the server's user only
            assert mail["To"] == "survivor@example.com"
            assert f"{base}/auth/confirmation?" in mail.get_body(("plain",)).get_content()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        assert not _postgres_running(var_dir), "embedded PostgreSQL was left running after SIGTERM"

        # The admin CLI works on the same embedded data while the server is down.
        confirm = subprocess.run([sys.executable, "-m", "app.cli", "accounts", "confirm", "survivor"],
                                 cwd=ROOT, env=_env(var_dir, port), capture_output=True, text=True, timeout=120)
        assert confirm.returncode == 0, confirm.stdout + confirm.stderr
        assert not _postgres_running(var_dir)

        process = _start(var_dir, port, log)
        try:
            found = httpx.get(f"{base}/api/v1/accounts/lookup", params={"acct": "survivor"})
            assert found.status_code == 200
            assert found.json()["username"] == "survivor"
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    assert not _postgres_running(var_dir)
    # Nothing failed along the way (the embedded Redis is a unix socket, which once broke the
    # notices listener: a traceback in the log, and every request paying the token check's MGET).
    logged = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in logged, logged[-3000:]
