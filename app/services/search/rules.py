"""What a search may find: the one place the rules live, shared by every backend.

- public and unlisted posts of accounts that allow indexing (`accounts.indexable`);
- the searcher's own posts, whatever their visibility;
- posts the searcher interacted with: favourited, bookmarked, boosted, replied to, or
  was mentioned in;
and of those only what the searcher may see at all (app.services.visibility: never
deleted posts, suspended authors, blocks either way, others' private posts unless
following, direct posts unless mentioned), never posts of muted accounts (as Mastodon's
StatusFilter), and never boosts themselves (the boosted post is what is found).
"""
from __future__ import annotations

from sqlalchemy import and_, exists, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.models import Account, Bookmark, Favourite, Mention, Status
from app.services.relationships import mutes
from app.services.visibility import OPEN, visible_to


def interacted(viewer_id, status=Status) -> ColumnElement:
    other = aliased(Status)
    return or_(
        exists().where(Favourite.status_id == status.id, Favourite.account_id == viewer_id),
        exists().where(Bookmark.status_id == status.id, Bookmark.account_id == viewer_id),
        exists().where(Mention.status_id == status.id, Mention.account_id == viewer_id),
        exists().where(other.reblog_of_id == status.id, other.account_id == viewer_id, other.deleted_at.is_(None)),
        exists().where(other.in_reply_to_id == status.id, other.account_id == viewer_id, other.deleted_at.is_(None)),
    )


def findable(viewer_id, status=Status) -> ColumnElement:
    """Which posts a search may bring up at all, before visibility (see the module doc)."""
    indexable_author = exists().where(Account.id == status.account_id, Account.indexable.is_(True))
    return or_(
        status.account_id == viewer_id,
        and_(status.visibility.in_(OPEN), indexable_author),
        interacted(viewer_id, status),
    )


def searchable(viewer_id, status=Status) -> ColumnElement:
    """A WHERE condition on `status` (Status or an alias): posts `viewer_id` may find by search.
    `viewer_id` is an account id or a bind parameter (statements built once and reused: no
    value is frozen into them, mutes expire by the database's now())."""
    return and_(
        status.reblog_of_id.is_(None),
        findable(viewer_id, status),
        visible_to(viewer_id, status),
        ~mutes(viewer_id, status.account_id),
    )
