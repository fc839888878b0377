"""Filters: a user's keyword and status filters, kept (v2 and the v1 one-keyword view) and applied.

    group = await filters.create(session, me, FilterDraft(title="Spoilers", context=["home"],
                                                          keywords=[KeywordDraft(keyword="finale")]))
    await filters.add_status(session, me, group.filter.id, status_id)
    v1 = await filters.v1_create(session, me, V1Draft(phrase="finale", context=["home"]))

Every change tells the owner's open `user` streams `filters_changed` once it commits, so apps
reload their filters. Applying them is Mastodon's server-side matching: rendering asks
ACTIVE_FILTERS (one statement, in the renderer's own round trip) for the viewer's unexpired
filters of one context, and `matches` tells which of them a status trips. Hiding is left to
apps: the result carries the filter's action.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import BigInteger, Text, bindparam, func, literal, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.errors import NotFound, Validation
from app.models import Account, CustomFilter, CustomFilterKeyword, CustomFilterStatus, Status
from app.models.base import utcnow
from app.models.filter import FILTER_ACTIONS, FILTER_CONTEXTS
from app.services import streaming, visibility
from app.services.ids import parse_id
from app.services.remote_html import plain
from app.text import boolean, whole_number

log = logging.getLogger("starling.filters")

MAX_TITLE = 255
MAX_KEYWORD = 1000
MAX_EXPIRES_IN = 100 * 365 * 86400  # beyond a century is "never", and keeps the date representable
# Mastodon's methods page names the third action `blur_media`, its entity, OpenAPI file and code `blur`.
ACTION_ALIASES = {"blur_media": "blur"}
UNSET: Any = object()  # a draft field the request did not send


# -- drafts ----------------------------------------------------------------------------------------

@dataclass
class KeywordDraft:
    """One keywords_attributes item, or a keyword endpoint's body. UNSET keeps the current value."""

    keyword: Any = UNSET
    whole_word: Any = UNSET
    id: Any = None  # an existing keyword of the filter to change or remove
    destroy: bool = False


@dataclass
class FilterDraft:
    """What the owner sent; UNSET keeps the current value (or the default for a new filter).
    expires_in None clears the expiry."""

    title: Any = UNSET
    context: Any = UNSET
    filter_action: Any = UNSET
    expires_in: Any = UNSET
    keywords: list[KeywordDraft] = field(default_factory=list)


@dataclass
class V1Draft:
    phrase: Any = UNSET
    context: Any = UNSET
    irreversible: Any = UNSET
    whole_word: Any = UNSET
    expires_in: Any = UNSET


@dataclass
class FilterGroup:
    """A filter with its keywords and statuses, as the v2 API shows it."""

    filter: CustomFilter
    keywords: list[CustomFilterKeyword]
    statuses: list[CustomFilterStatus]


# -- checks ----------------------------------------------------------------------------------------

def _text(problems: Validation, name: str, value: Any, maximum: int) -> str | None:
    if value is not None and not isinstance(value, (str, int, float)):
        problems.add(name, "ERR_INVALID", "must be a string")
        return None
    text = str(value if value is not None else "").strip()
    if not text:
        problems.add(name, "ERR_BLANK", "can't be blank")
    elif len(text) > maximum:
        problems.add(name, "ERR_TOO_LONG", f"is too long (maximum is {maximum} characters)")
    return text


def _context(problems: Validation, value: Any) -> list[str]:
    if isinstance(value, list):
        value = [v for v in value if v not in ("", None)]  # Mastodon drops blank entries
    if not isinstance(value, list) or not value:
        problems.add("context", "ERR_BLANK", "can't be blank")
    values = value if isinstance(value, list) else [value]
    if not values or any(not isinstance(v, str) or v not in FILTER_CONTEXTS for v in values):
        problems.add("context", "ERR_INCLUSION", "None or invalid context supplied")
        return []
    return list(dict.fromkeys(values))


def _action(problems: Validation, value: Any) -> str:
    action = ACTION_ALIASES.get(value, value) if isinstance(value, str) else value
    if action not in FILTER_ACTIONS:
        problems.add("filter_action", "ERR_INCLUSION", f"is not included in the list ({', '.join(FILTER_ACTIONS)})")
        return "warn"
    return action


def _bool(problems: Validation, name: str, value: Any) -> bool:
    parsed = boolean(value)
    if parsed is None:
        problems.add(name, "ERR_INVALID", "must be a boolean")
    return bool(parsed)


def _expires_at(problems: Validation, value: Any) -> datetime | None:
    """expires_in seconds from now; blank or null means never."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    seconds = whole_number(value)
    if seconds is None:
        problems.add("expires_in", "ERR_INVALID", "must be a whole number of seconds")
        return None
    if seconds <= 0:
        problems.add("expires_in", "ERR_INVALID", "must be greater than 0")
        return None
    return utcnow() + timedelta(seconds=min(seconds, MAX_EXPIRES_IN))


# -- finding ---------------------------------------------------------------------------------------

async def find_filter(session: AsyncSession, owner: Account, filter_id, *, lock: bool = False) -> CustomFilter:
    """The owner's filter; 404 for a malformed id, someone else's filter or none."""
    parsed = parse_id(filter_id)
    found = None
    if parsed is not None:
        query = select(CustomFilter).where(CustomFilter.id == parsed, CustomFilter.account_id == owner.id)
        found = (await session.exec(query.with_for_update() if lock else query)).first()
    if found is None:
        raise NotFound()
    return found


async def _find_owned(session: AsyncSession, owner: Account, model, row_id):
    """A keyword or status filter of one of the owner's filters, with that filter."""
    parsed = parse_id(row_id)
    found = None
    if parsed is not None:
        found = (await session.exec(select(model, CustomFilter).join(
            CustomFilter, CustomFilter.id == model.custom_filter_id).where(
            model.id == parsed, CustomFilter.account_id == owner.id))).first()
    if found is None:
        raise NotFound()
    return found


async def _groups(session: AsyncSession, found: list[CustomFilter]) -> list[FilterGroup]:
    ids = [f.id for f in found]
    keywords: dict[int, list[CustomFilterKeyword]] = {i: [] for i in ids}
    statuses: dict[int, list[CustomFilterStatus]] = {i: [] for i in ids}
    if ids:
        for keyword in (await session.exec(select(CustomFilterKeyword).where(
                CustomFilterKeyword.custom_filter_id.in_(ids)).order_by(CustomFilterKeyword.id))).all():
            keywords[keyword.custom_filter_id].append(keyword)
        for row in (await session.exec(select(CustomFilterStatus).where(
                CustomFilterStatus.custom_filter_id.in_(ids)).order_by(CustomFilterStatus.id))).all():
            statuses[row.custom_filter_id].append(row)
    return [FilterGroup(f, keywords[f.id], statuses[f.id]) for f in found]


async def all_of(session: AsyncSession, owner: Account) -> list[FilterGroup]:
    found = list((await session.exec(select(CustomFilter).where(
        CustomFilter.account_id == owner.id).order_by(CustomFilter.id))).all())
    return await _groups(session, found)


async def group(session: AsyncSession, owner: Account, filter_id) -> FilterGroup:
    return (await _groups(session, [await find_filter(session, owner, filter_id)]))[0]


# Per account. Every keyword is matched against every status the owner reads (a 20-post page
# with 200 keywords costs a few ms of CPU), so they are bounded; Mastodon sets no limit.
MAX_FILTERS = 100
MAX_KEYWORDS = 200
MAX_STATUSES = 1000
_COUNTS = sa_select(
    sa_select(func.count()).where(CustomFilter.account_id == bindparam("owner")).scalar_subquery(),
    sa_select(func.count()).select_from(CustomFilterKeyword).join(CustomFilter).where(
        CustomFilter.account_id == bindparam("owner")).scalar_subquery(),
    sa_select(func.count()).select_from(CustomFilterStatus).join(CustomFilter).where(
        CustomFilter.account_id == bindparam("owner")).scalar_subquery())


async def _within_limits(session: AsyncSession, owner: Account) -> None:
    """After a change is flushed: a 422 (the transaction rolls back) if it went over a limit."""
    filters, keywords, statuses = (await session.execute(_COUNTS, {"owner": owner.id})).one()
    problems = Validation()
    for name, count, limit in (("filters", filters, MAX_FILTERS), ("keywords", keywords, MAX_KEYWORDS),
                               ("statuses", statuses, MAX_STATUSES)):
        if count > limit:
            problems.add(name, "ERR_TOO_MANY", f"are too many (at most {limit} for an account)")
    problems.raise_if_any()


def _changed(session: AsyncSession, owner: Account) -> None:
    """Once the change commits, the owner's apps reload their filters (Mastodon's filters_changed)."""
    async def announce() -> None:
        try:
            # The apps reload theirs; every open stream (not only `user` ones) matches afresh.
            await streaming.publish_many([streaming.user_channel(owner.id), streaming.system_channel(owner.id)],
                                         "filters_changed")
        except Exception:  # the change has committed; a missed event only delays the reload
            log.exception("filters_changed for account %s not published", owner.id)

    if not session.info.get("filters_changed"):
        session.info["filters_changed"] = True
        db.after_commit(session, announce)


# -- filters (v2) ----------------------------------------------------------------------------------

def _check_filter(problems: Validation, draft: FilterDraft, *, creating: bool) -> dict[str, Any]:
    """The filter columns to write."""
    values: dict[str, Any] = {}
    if draft.title is not UNSET or creating:
        values["title"] = _text(problems, "title", None if draft.title is UNSET else draft.title, MAX_TITLE)
    if draft.context is not UNSET or creating:
        values["context"] = _context(problems, None if draft.context is UNSET else draft.context)
    if draft.filter_action is not UNSET and draft.filter_action not in (None, ""):
        values["filter_action"] = _action(problems, draft.filter_action)
    if draft.expires_in is not UNSET:
        values["expires_at"] = _expires_at(problems, draft.expires_in)
    return values


def _check_keyword(problems: Validation, draft: KeywordDraft, *, creating: bool, field_name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if draft.keyword is not UNSET or creating:
        checked = Validation()
        values["keyword"] = _text(checked, "keyword", None if draft.keyword is UNSET else draft.keyword,
                                  MAX_KEYWORD)
        for problem in checked.problems.get("keyword", []):
            problems.add(field_name, *problem)
    if draft.whole_word is not UNSET and draft.whole_word not in (None, ""):
        values["whole_word"] = _bool(problems, "whole_word", draft.whole_word)
    return values


def _all_blank(draft: KeywordDraft) -> bool:
    """Rails' blank: nothing, empty or whitespace text, false."""
    return all(value in (UNSET, None, False) or (isinstance(value, str) and not value.strip())
               for value in (draft.keyword, draft.whole_word, draft.id))


async def _apply_keywords(session: AsyncSession, a_filter: CustomFilter, drafts: list[KeywordDraft],
                          problems: Validation, *, creating: bool) -> None:
    """keywords_attributes: new keywords, and (on update) changes to or removal of existing ones
    by id, which must belong to this filter (404 otherwise, as Mastodon)."""
    existing: dict[int, CustomFilterKeyword] = {}
    if not creating:
        existing = {k.id: k for k in (await session.exec(select(CustomFilterKeyword).where(
            CustomFilterKeyword.custom_filter_id == a_filter.id))).all()}
    writes: list[tuple[CustomFilterKeyword | None, dict[str, Any], bool]] = []
    destroyed: set[int] = set()
    for draft in drafts:
        if _all_blank(draft):
            continue  # Mastodon ignores such an item (reject_if: :all_blank)
        if draft.id not in (None, ""):
            keyword = existing.get(parse_id(draft.id)) if not creating else None
            if keyword is None:
                raise NotFound()
            if keyword.id in destroyed:
                continue  # named again after its removal: it stays removed
            if draft.destroy:
                destroyed.add(keyword.id)
                writes.append((keyword, {}, True))
            else:
                writes.append((keyword, _check_keyword(problems, draft, creating=False,
                                                       field_name="keywords_keyword"), False))
        elif not draft.destroy:
            values = _check_keyword(problems, draft, creating=True, field_name="keywords_keyword")
            writes.append((None, values, False))
    problems.raise_if_any()
    for keyword, values, destroy in writes:
        if destroy:
            await session.delete(keyword)
        elif keyword is None:
            session.add(CustomFilterKeyword(custom_filter_id=a_filter.id, **values))
        elif values:
            for name, value in values.items():
                setattr(keyword, name, value)
            keyword.updated_at = utcnow()
            session.add(keyword)


async def create(session: AsyncSession, owner: Account, draft: FilterDraft) -> FilterGroup:
    if any(k.id not in (None, "") for k in draft.keywords):
        raise NotFound()  # Mastodon: a keyword id names nothing in a filter being made
    problems = Validation()
    values = _check_filter(problems, draft, creating=True)
    a_filter = CustomFilter(account_id=owner.id, **values)
    for keyword in (k for k in draft.keywords if not _all_blank(k)):  # checked before the filter is written
        _check_keyword(problems, keyword, creating=not keyword.destroy, field_name="keywords_keyword")
    problems.raise_if_any()
    session.add(a_filter)
    await session.flush()
    await _apply_keywords(session, a_filter, draft.keywords, problems, creating=True)
    await session.flush()
    await _within_limits(session, owner)
    _changed(session, owner)
    return (await _groups(session, [a_filter]))[0]


async def update(session: AsyncSession, owner: Account, filter_id, draft: FilterDraft) -> FilterGroup:
    a_filter = await find_filter(session, owner, filter_id, lock=True)
    problems = Validation()
    values = _check_filter(problems, draft, creating=False)
    await _apply_keywords(session, a_filter, draft.keywords, problems, creating=False)
    for name, value in values.items():
        setattr(a_filter, name, value)
    a_filter.updated_at = utcnow()
    session.add(a_filter)
    await session.flush()
    await _within_limits(session, owner)
    _changed(session, owner)
    return (await _groups(session, [a_filter]))[0]


async def remove(session: AsyncSession, owner: Account, filter_id) -> None:
    await session.delete(await find_filter(session, owner, filter_id))
    _changed(session, owner)


# -- keywords --------------------------------------------------------------------------------------

async def keywords_of(session: AsyncSession, owner: Account, filter_id) -> list[CustomFilterKeyword]:
    return (await group(session, owner, filter_id)).keywords


async def find_keyword(session: AsyncSession, owner: Account, keyword_id) -> CustomFilterKeyword:
    return (await _find_owned(session, owner, CustomFilterKeyword, keyword_id))[0]


async def add_keyword(session: AsyncSession, owner: Account, filter_id, draft: KeywordDraft) -> CustomFilterKeyword:
    a_filter = await find_filter(session, owner, filter_id)
    problems = Validation()
    values = _check_keyword(problems, draft, creating=True, field_name="keyword")
    problems.raise_if_any()
    keyword = CustomFilterKeyword(custom_filter_id=a_filter.id, **values)
    session.add(keyword)
    await session.flush()
    await _within_limits(session, owner)
    _changed(session, owner)
    return keyword


async def update_keyword(session: AsyncSession, owner: Account, keyword_id, draft: KeywordDraft) -> CustomFilterKeyword:
    keyword = await find_keyword(session, owner, keyword_id)
    problems = Validation()
    values = _check_keyword(problems, draft, creating=False, field_name="keyword")
    problems.raise_if_any()
    for name, value in values.items():
        setattr(keyword, name, value)
    keyword.updated_at = utcnow()
    session.add(keyword)
    await session.flush()
    _changed(session, owner)
    return keyword


async def remove_keyword(session: AsyncSession, owner: Account, keyword_id) -> None:
    await session.delete(await find_keyword(session, owner, keyword_id))
    _changed(session, owner)


# -- status filters --------------------------------------------------------------------------------

async def statuses_of(session: AsyncSession, owner: Account, filter_id) -> list[CustomFilterStatus]:
    return (await group(session, owner, filter_id)).statuses


async def find_status(session: AsyncSession, owner: Account, row_id) -> CustomFilterStatus:
    return (await _find_owned(session, owner, CustomFilterStatus, row_id))[0]


async def add_status(session: AsyncSession, owner: Account, filter_id, status_id) -> CustomFilterStatus:
    """A status the owner can see, once per filter."""
    a_filter = await find_filter(session, owner, filter_id, lock=True)
    problems = Validation()
    parsed = parse_id(status_id) if isinstance(status_id, (str, int)) else None
    status = None
    if parsed is not None:
        status = (await session.exec(select(Status.id).where(
            Status.id == parsed, visibility.visible_to(owner.id)))).first()
    if status is None:
        problems.add("status", "ERR_BLANK", "must exist")
    elif (await session.exec(select(CustomFilterStatus.id).where(
            CustomFilterStatus.custom_filter_id == a_filter.id, CustomFilterStatus.status_id == parsed))).first():
        problems.add("status", "ERR_TAKEN", "has already been taken")
    problems.raise_if_any()
    row = CustomFilterStatus(custom_filter_id=a_filter.id, status_id=parsed)
    session.add(row)
    await session.flush()
    await _within_limits(session, owner)
    _changed(session, owner)
    return row


async def remove_status(session: AsyncSession, owner: Account, row_id) -> None:
    await session.delete(await find_status(session, owner, row_id))
    _changed(session, owner)


# -- v1: one keyword seen as a whole filter ----------------------------------------------------------

async def v1_all(session: AsyncSession, owner: Account) -> list[tuple[CustomFilterKeyword, CustomFilter]]:
    rows = (await session.exec(select(CustomFilterKeyword, CustomFilter).join(
        CustomFilter, CustomFilter.id == CustomFilterKeyword.custom_filter_id).where(
        CustomFilter.account_id == owner.id).order_by(CustomFilterKeyword.id))).all()
    return [(keyword, a_filter) for keyword, a_filter in rows]


async def v1_find(session: AsyncSession, owner: Account, keyword_id) -> tuple[CustomFilterKeyword, CustomFilter]:
    return await _find_owned(session, owner, CustomFilterKeyword, keyword_id)


def _v1_filter_values(problems: Validation, draft: V1Draft, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if draft.context is not UNSET or creating:
        values["context"] = _context(problems, None if draft.context is UNSET else draft.context)
    if draft.irreversible is not UNSET and draft.irreversible not in (None, ""):
        values["filter_action"] = "hide" if _bool(problems, "irreversible", draft.irreversible) else "warn"
    if draft.expires_in is not UNSET:
        values["expires_at"] = _expires_at(problems, draft.expires_in)
    return values


async def v1_create(session: AsyncSession, owner: Account, draft: V1Draft) -> tuple[CustomFilterKeyword, CustomFilter]:
    """A filter titled after the phrase, holding it as its one keyword (Mastodon 4's v1 shim)."""
    problems = Validation()
    phrase = _text(problems, "phrase", None if draft.phrase is UNSET else draft.phrase, MAX_KEYWORD)
    values = _v1_filter_values(problems, draft, creating=True)
    whole_word = False  # the v1 default, unlike a v2 keyword's
    if draft.whole_word not in (UNSET, None, ""):
        whole_word = _bool(problems, "whole_word", draft.whole_word)
    problems.raise_if_any()
    a_filter = CustomFilter(account_id=owner.id, title=phrase[:MAX_TITLE], **values)
    session.add(a_filter)
    await session.flush()
    keyword = CustomFilterKeyword(custom_filter_id=a_filter.id, keyword=phrase, whole_word=whole_word)
    session.add(keyword)
    await session.flush()
    await _within_limits(session, owner)
    _changed(session, owner)
    return keyword, a_filter


async def v1_update(session: AsyncSession, owner: Account, keyword_id,
                    draft: V1Draft) -> tuple[CustomFilterKeyword, CustomFilter]:
    """phrase and whole_word change the keyword; context, irreversible and expires_in its filter,
    which is refused (422) for a filter holding other keywords too, as they would change with it."""
    keyword, a_filter = await v1_find(session, owner, keyword_id)
    problems = Validation()
    phrase = None
    if draft.phrase is not UNSET:
        phrase = _text(problems, "phrase", draft.phrase, MAX_KEYWORD)
    values = _v1_filter_values(problems, draft, creating=False)
    whole_word = None
    if draft.whole_word not in (UNSET, None, ""):
        whole_word = _bool(problems, "whole_word", draft.whole_word)
    problems.raise_if_any()
    changes = {name: value for name, value in values.items() if getattr(a_filter, name) != value}
    if changes and (await session.exec(select(func.count()).select_from(CustomFilterKeyword).where(
            CustomFilterKeyword.custom_filter_id == a_filter.id))).one() > 1:
        problems.add("filter", "ERR_INVALID", "has other keywords: change its context, expiry or action "
                                              "through /api/v2/filters")
        problems.raise_if_any()
    if phrase is not None and phrase != keyword.keyword:
        if a_filter.title == keyword.keyword:  # the title still mirrors the phrase: keep it so
            changes["title"] = phrase[:MAX_TITLE]
        keyword.keyword = phrase
    if whole_word is not None:
        keyword.whole_word = whole_word
    now = utcnow()
    keyword.updated_at = now
    session.add(keyword)
    if changes:
        for name, value in changes.items():
            setattr(a_filter, name, value)
        a_filter.updated_at = now
        session.add(a_filter)
    await session.flush()
    await _within_limits(session, owner)
    _changed(session, owner)
    return keyword, a_filter


async def v1_remove(session: AsyncSession, owner: Account, keyword_id) -> None:
    """Removes the keyword only; its filter stays (Mastodon: delete filters through v2)."""
    await remove_keyword(session, owner, keyword_id)


# -- applying --------------------------------------------------------------------------------------

_VIEWER = bindparam("viewer_id", type_=BigInteger)
# Every unexpired filter, whatever its contexts: as Mastodon, a status carries all the matches and
# apps act on those whose context is where they show it (one copy of a status, whatever the view).
_ACTIVE = (CustomFilter.account_id == _VIEWER,
           or_(CustomFilter.expires_at.is_(None), CustomFilter.expires_at > func.now()))
_COLUMNS = (CustomFilter.id, CustomFilter.title, CustomFilter.context, CustomFilter.filter_action,
            CustomFilter.expires_at)


def _active_filters(*which_statuses):
    """The viewer's unexpired filters: each keyword, and each filtered status (those meeting
    `which_statuses`), one row apiece."""
    return union_all(
        sa_select(*_COLUMNS, CustomFilterKeyword.keyword, CustomFilterKeyword.whole_word,
                  null().cast(BigInteger).label("status_id"))
        .join(CustomFilterKeyword, CustomFilterKeyword.custom_filter_id == CustomFilter.id).where(*_ACTIVE),
        sa_select(*_COLUMNS, null().cast(Text).label("keyword"), literal(False).label("whole_word"),
                  CustomFilterStatus.status_id)
        .join(CustomFilterStatus, CustomFilterStatus.custom_filter_id == CustomFilter.id)
        .where(*_ACTIVE, *which_statuses),
    )


# Built once; run through db.rows_together. Of the filtered statuses, those among the ones
# being rendered (`ids`).
ACTIVE_FILTERS = _active_filters(db.any_of(CustomFilterStatus.status_id))
# For a viewer's open public and hashtag streams, which see statuses one at a time: every
# filtered status of theirs.
ALL_ACTIVE_FILTERS = _active_filters()


async def owners_with_filters(session: AsyncSession, account_ids: list[int]) -> set[int]:
    """Those of `account_ids` with an unexpired filter (their stream events are matched for them)."""
    rows = await session.execute(sa_select(CustomFilter.account_id).distinct().where(
        CustomFilter.account_id.in_(account_ids),
        or_(CustomFilter.expires_at.is_(None), CustomFilter.expires_at > func.now())))
    return {row[0] for row in rows}


def active_filters_params(viewer_id: int, status_ids: list[int]) -> dict[str, Any]:
    return {"viewer_id": viewer_id, "ids": status_ids}


@dataclass
class ActiveFilter:
    id: int
    title: str
    context: list[str]
    filter_action: str
    expires_at: datetime | None
    keywords: list[tuple[str, bool]] = field(default_factory=list)
    status_ids: set[int] = field(default_factory=set)
    pattern: re.Pattern | None = None  # all its keywords as one expression (compile_active)


def _keyword_expression(keyword: str, whole_word: bool) -> str:
    """The text itself; a whole word also needs a word boundary at each end that is a word
    character (so "#tag" or "c++" still match as words), as Mastodon does."""
    escaped = re.escape(keyword)
    if whole_word:
        start = r"\b" if re.match(r"\w", keyword) else ""
        end = r"\b" if re.search(r"\w$", keyword) else ""
        escaped = f"{start}{escaped}{end}"
    return escaped


def _pattern(keywords: list[tuple[str, bool]]) -> re.Pattern | None:
    """One case-insensitive expression for all of a filter's keywords (as Mastodon's
    Regexp.union): one search per status, about five times faster than one per keyword."""
    if not keywords:
        return None
    return re.compile("|".join(f"(?:{_keyword_expression(k, whole)})" for k, whole in keywords), re.IGNORECASE)


def compile_active(rows: Iterable) -> list[ActiveFilter]:
    """ACTIVE_FILTERS rows -> one ActiveFilter each, its keywords compiled."""
    found: dict[int, ActiveFilter] = {}
    for row in rows:
        a_filter = found.get(row.id)
        if a_filter is None:
            a_filter = found[row.id] = ActiveFilter(row.id, row.title, list(row.context), row.filter_action,
                                                    row.expires_at)
        if row.status_id is not None:
            a_filter.status_ids.add(row.status_id)
        elif row.keyword:
            a_filter.keywords.append((row.keyword, row.whole_word))
    for a_filter in found.values():
        a_filter.pattern = _pattern(a_filter.keywords)
    return sorted(found.values(), key=lambda f: f.id)


def needs_text(active: list[ActiveFilter]) -> bool:
    return any(f.keywords for f in active)


_BREAKS = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)


def searchable_text(content: str, spoiler_text: str, media_descriptions: Iterable[str | None],
                    poll_options: Iterable[str]) -> str:
    """What keywords are matched against: the content as plain text (line and paragraph breaks
    kept apart, so words on either side do not run together), the content warning, media
    descriptions and poll options."""
    body = plain(_BREAKS.sub("\n", content or ""))
    parts = [spoiler_text or "", body, *(d for d in media_descriptions if d), *poll_options]
    return "\n\n".join(p for p in parts if p)


@dataclass
class Match:
    filter: ActiveFilter
    keyword_matches: list[str] | None
    status_matches: list[int] | None


def matches(active: list[ActiveFilter], status_ids: Iterable[int], text: str | None) -> list[Match]:
    """Which filters a status trips: by its keywords (the text that matched, each once, as
    Mastodon lists it) or by status (`status_ids`: the status, and the one it boosts)."""
    ids = [i for i in status_ids if i is not None]
    found = []
    for a_filter in active:
        keyword_matches = []
        if text and a_filter.pattern is not None:
            keyword_matches = list(dict.fromkeys(m.group(0) for m in a_filter.pattern.finditer(text)))
        status_matches = [i for i in ids if i in a_filter.status_ids] or None
        if keyword_matches or status_matches:
            found.append(Match(a_filter, keyword_matches or None, status_matches))
    return found
