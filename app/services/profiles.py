"""Profiles: finding the accounts others may see, and updates by the owner.

    account = await profiles.find_visible(session, account_id)     # None: 404
    account = await profiles.lookup(session, "alice@example.com")
    account, user = await profiles.update(account_id, ProfileUpdate(display_name="Al", avatar=data))

A local account whose e-mail is unconfirmed or whose sign-up awaits approval
does not exist for anybody else yet, as in Mastodon.

Updates (PATCH /api/v1/accounts/update_credentials) are all or nothing: every
field and image is checked first and all problems are reported together
(ValidationFailed); new image files are written only after that, and removed
again if the database transaction fails. Replaced images are deleted once the
change is committed. `update` owns its transaction because the files and the
row must succeed or fail together.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db, text
from app.config import get_settings
from app.errors import NotFound, Validation
from app.models import Account, User
from app.models.base import utcnow
from app.services import media_files
from app.services.media_files import AVATAR, HEADER, ImageKind, ImageProblem, ProcessedImage

log = logging.getLogger(__name__)

DISPLAY_NAME_MAX = 30
NOTE_MAX = 500
FIELDS_MAX = 4
FIELD_NAME_MAX = 255
FIELD_VALUE_MAX = 255
DEFAULT_PRIVACY = ("public", "unlisted", "private")  # Mastodon refuses `direct` as a default
LANGUAGE = re.compile(r"^[a-z]{2,3}$")


MAX_IDS = 40  # accounts per GET /api/v1/accounts?id[]=...


def _visible():
    return or_(Account.domain.is_not(None), and_(User.confirmed_at.is_not(None), User.approved.is_(True)))


def _visible_accounts():
    return select(Account).join(User, User.account_id == Account.id, isouter=True).where(_visible())


async def find_visible(session: AsyncSession, account_id: int) -> Account | None:
    return (await session.exec(_visible_accounts().where(Account.id == account_id))).first()


async def find_many(session: AsyncSession, account_ids: list[int]) -> list[Account]:
    """The visible ones among `account_ids`, in the order asked for, each once."""
    wanted = list(dict.fromkeys(account_ids))[:MAX_IDS]
    if not wanted:
        return []
    found = {a.id: a for a in (await session.exec(_visible_accounts().where(Account.id.in_(wanted)))).all()}
    return [found[i] for i in wanted if i in found]


async def own(session: AsyncSession, account_id: int) -> tuple[Account, User]:
    """A local account and its user as they are now (verify_credentials: the request's own
    owner is kept between requests without its counters, see app.services.token_owners)."""
    account = await session.get(Account, account_id)
    user = (await session.exec(select(User).where(User.account_id == account_id))).first()
    if account is None or user is None:
        raise NotFound()
    return account, user


def _our_domain(domain: str) -> bool:
    ours = get_settings().domain.lower()
    return domain.lower() in (ours, ours.split(":")[0])


async def lookup(session: AsyncSession, acct: str) -> Account | None:
    """`name` or `name@domain` among known accounts (no WebFinger: remote ones must be known)."""
    username, _, domain = acct.strip().removeprefix("@").partition("@")
    if not username:
        return None
    query = _visible_accounts().where(func.lower(Account.username) == username.lower())
    if not domain or _our_domain(domain):
        query = query.where(Account.domain.is_(None))
    else:
        query = query.where(func.lower(Account.domain) == domain.lower())
    return (await session.exec(query)).first()


@dataclass
class ProfileUpdate:
    """What the owner asked to change; None means "leave as it is"."""

    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    hide_collections: bool | None = None
    fields: Any = None  # as sent: a list, or a hash keyed by index (order of arrival counts)
    privacy: str | None = None
    sensitive: bool | None = None
    language: str | None = None  # "" clears it
    avatar: bytes | None = None
    header: bytes | None = None


def _field_items(raw: Any, problems: Validation) -> list[dict[str, str]]:
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else None
    if items is None or not all(isinstance(item, dict) for item in items):
        problems.add("fields", "ERR_INVALID", "must be a list of {name, value} entries")
        return []
    fields = []
    for item in items:
        name, value = item.get("name", ""), item.get("value", "")
        if not isinstance(name, (str, int, float)) or not isinstance(value, (str, int, float)):
            problems.add("fields", "ERR_INVALID", "entries must have a text name and value")
            return []
        name, value = str(name).strip(), str(value).strip()
        if name or value:  # Mastodon drops entries left entirely blank
            fields.append({"name": name, "value": value})
    if len(fields) > FIELDS_MAX:
        problems.add("fields", "ERR_TOO_LONG", f"has too many entries ({len(fields)}; the maximum is {FIELDS_MAX})")
    for number, field in enumerate(fields, start=1):
        if len(field["name"]) > FIELD_NAME_MAX:
            problems.add("fields", "ERR_TOO_LONG",
                         f"name of entry {number} is too long (maximum is {FIELD_NAME_MAX} characters)")
        if len(field["value"]) > FIELD_VALUE_MAX:
            problems.add("fields", "ERR_TOO_LONG",
                         f"value of entry {number} is too long (maximum is {FIELD_VALUE_MAX} characters)")
    return fields


def _check_text(changes: ProfileUpdate, problems: Validation) -> list[dict[str, str]] | None:
    if changes.display_name is not None and len(changes.display_name.strip()) > DISPLAY_NAME_MAX:
        problems.add("display_name", "ERR_TOO_LONG", f"is too long (maximum is {DISPLAY_NAME_MAX} characters)")
    if changes.note is not None and text.countable_length(changes.note.strip()) > NOTE_MAX:
        problems.add("note", "ERR_TOO_LONG", f"is too long (maximum is {NOTE_MAX} characters)")
    if changes.privacy is not None and changes.privacy not in DEFAULT_PRIVACY:
        problems.add("privacy", "ERR_INVALID", f"must be one of {', '.join(DEFAULT_PRIVACY)}")
    if changes.language and not LANGUAGE.match(changes.language.strip().lower()):
        problems.add("language", "ERR_INVALID", "must be an ISO 639 language code such as en or de")
    return None if changes.fields is None else _field_items(changes.fields, problems)


async def _process_images(changes: ProfileUpdate, problems: Validation) -> dict[ImageKind, ProcessedImage]:
    settings = get_settings()
    uploads = [(AVATAR, changes.avatar, settings.max_avatar_bytes), (HEADER, changes.header, settings.max_header_bytes)]
    images = {}
    for kind, data, limit in uploads:
        if data is None:
            continue
        try:
            images[kind] = await asyncio.to_thread(media_files.process, kind, data, limit)
        except ImageProblem as problem:
            problems.add(kind.name, problem.code, problem.description)
    return images


def _apply(account: Account, user: User, changes: ProfileUpdate, fields: list[dict[str, str]] | None) -> None:
    if changes.display_name is not None:
        account.display_name = changes.display_name.strip()
    if changes.note is not None:
        account.note_source = text.normalize_newlines(changes.note).strip()
        account.note = text.render_plain(account.note_source)
    for flag in ("locked", "bot", "discoverable", "indexable", "hide_collections"):
        if getattr(changes, flag) is not None:
            setattr(account, flag, getattr(changes, flag))
    if fields is not None:
        account.fields = [{"name": f["name"], "value": text.render_inline(f["value"]), "source": f["value"],
                           "verified_at": None} for f in fields]
    if changes.privacy is not None:
        user.default_privacy = changes.privacy
    if changes.sensitive is not None:
        user.default_sensitive = changes.sensitive
    if changes.language is not None:
        user.default_language = changes.language.strip().lower() or None
    account.updated_at = utcnow()


async def update(account_id: int, changes: ProfileUpdate) -> tuple[Account, User]:
    """Apply `changes` to a local account (raises ValidationFailed, changing nothing)."""
    problems = Validation()
    fields = _check_text(changes, problems)
    images = await _process_images(changes, problems)
    problems.raise_if_any()

    store = media_files.storage()
    written = {kind: media_files.new_path(kind, image.extension) for kind, image in images.items()}
    replaced: list[str] = []
    try:
        for kind, path in written.items():
            await asyncio.to_thread(store.save, path, images[kind].data)
        async with db.session() as session:
            account = await session.get(Account, account_id, with_for_update=True)
            user = (await session.exec(select(User).where(User.account_id == account_id))).first()
            if account is None or user is None:  # deleted meanwhile, or not a local account
                raise NotFound()
            _apply(account, user, changes, fields)
            if AVATAR in written:
                replaced.append(account.avatar_path)
                account.avatar_path = written[AVATAR]
            if HEADER in written:
                replaced.append(account.header_path)
                account.header_path = written[HEADER]
            session.add(account)
            session.add(user)
    except BaseException:
        for path in written.values():
            await asyncio.to_thread(store.delete, path)
        raise
    for path in filter(None, replaced):
        try:
            await asyncio.to_thread(store.delete, path)
        except OSError:  # a leftover file costs disk space, not correctness
            log.warning("could not delete replaced image %s", path, exc_info=True)
    return account, user
