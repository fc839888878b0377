"""Sending mail over SMTP (or, with no SMTP server configured, into var/mail/)."""
from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import time
import uuid
from email.message import EmailMessage

import dramatiq

from app.config import get_settings
from workers.runtime import finish, still_pending

log = logging.getLogger("starling.mail")


def _send(to: str, subject: str, text: str, html: str | None) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    if settings.smtp_host is None:
        _write(settings.mail_root, to, message)
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _write(root, to: str, message: EmailMessage) -> None:
    """One .eml file per message, written whole under a temporary name first so that a reader
    never opens half of one; readable by the server's user only (it holds sign-in links)."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
    partial = root / f".{name}.partial"
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(message.as_bytes())
    partial.rename(root / name)
    # A warning: an instance that meant to send mail and lost its setting should hear of it.
    log.warning("no SMTP server configured (STARLING_SMTP_HOST): mail to %s written to %s", to, root / name)


@dramatiq.actor(actor_name="send_email", max_retries=10, min_backoff=5_000, max_backoff=600_000)
async def send_email(to: str, subject: str, text: str, html: str | None = None, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await asyncio.to_thread(_send, to, subject, text, html)
    await finish(outbox_id)
