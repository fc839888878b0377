"""Composing the mail the instance sends, and handing it to the mail worker.

Every message has a plain-text and an HTML part, rendered from
``templates/mail/<name>.txt`` and ``templates/mail/<name>.html``. Sending goes
through ``jobs.defer`` in the caller's transaction: the message is recorded
together with the change that implies it, so a crash after commit never loses it,
and a rolled-back change never mails anyone.
"""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession

from app import jobs
from app.config import get_settings
from app.models import Account, User

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
# HTML parts are escaped; text parts are not (they are never interpreted as markup).
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)

SUBJECTS = {
    "confirmation": "{title}: confirm your e-mail address",
    "password_reset": "{title}: reset your password",
    "approved": "{title}: your account has been approved",
}


def render(name: str, **context) -> tuple[str, str, str]:
    """(subject, text, html) for the message `name`."""
    settings = get_settings()
    context = {"instance_title": settings.instance_title, "base_url": settings.base_url, **context}
    subject = SUBJECTS[name].format(title=settings.instance_title)
    text = _env.get_template(f"{name}.txt").render(subject=subject, **context)
    html = _env.get_template(f"{name}.html").render(subject=subject, **context)
    return subject, text, html


def send(session: AsyncSession, to: str, name: str, **context) -> None:
    subject, text, html = render(name, **context)
    jobs.defer(session, "send_email", to=to, subject=subject, text=text, html=html)


def confirmation(session: AsyncSession, user: User, account: Account, link: str) -> None:
    send(session, user.email, "confirmation", username=account.username, link=link,
         hours=get_settings().confirmation_link_hours, pending_approval=not user.approved)


def password_reset(session: AsyncSession, user: User, account: Account, link: str) -> None:
    send(session, user.email, "password_reset", username=account.username, link=link,
         hours=get_settings().reset_link_hours)


def approved(session: AsyncSession, user: User, account: Account) -> None:
    settings = get_settings()
    send(session, user.email, "approved", username=account.username,
         sign_in_link=f"{settings.base_url}/auth/sign_in", confirmed=user.confirmed,
         resend_link=f"{settings.base_url}/auth/confirmation/new")
