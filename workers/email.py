"""Sending mail over SMTP."""
from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

import dramatiq

from app.config import get_settings
from workers.runtime import finish, still_pending


def _send(to: str, subject: str, text: str, html: str | None) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


@dramatiq.actor(actor_name="send_email", max_retries=10, min_backoff=5_000, max_backoff=600_000)
async def send_email(to: str, subject: str, text: str, html: str | None = None, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await asyncio.to_thread(_send, to, subject, text, html)
    await finish(outbox_id)
