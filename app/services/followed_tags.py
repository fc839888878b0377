"""Following hashtags.

    tag = await follow(account_id, "cats")             # creates the tag if it is new; idempotent
    tag = await unfollow(account_id, "cats")           # idempotent; a name nobody used: a blank Tag
    rows = await followed(session, account_id, page)   # [(TagFollow id, Tag)], newest first
    ids = await following_ids(session, account_id, tag_ids)

Feeding followed hashtags into the home timeline belongs to the feeds code (fan-out on
write to the followers of a post's tags); it reads `tag_follows` by tag_id (indexed).
"""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.errors import NotFound
from app.models import Tag, TagFollow
from app.services.search.tags import NAME
from app.text import hashtag_key

MAX_NAME = 255


def _valid(name: str) -> str:
    if not NAME.match(name) or len(name) > MAX_NAME or not hashtag_key(name):
        raise NotFound()
    return name


async def _find(session: AsyncSession, name: str) -> Tag | None:
    return (await session.exec(select(Tag).where(Tag.key == hashtag_key(name)))).first()


async def follow(account_id: int, name: str) -> Tag:
    name = _valid(name)
    async with db.session() as session:
        await session.execute(insert(Tag).values(name=name, key=hashtag_key(name)).on_conflict_do_nothing())
        tag = await _find(session, name)
        await session.execute(insert(TagFollow).values(account_id=account_id, tag_id=tag.id)
                              .on_conflict_do_nothing())
        return tag


async def unfollow(account_id: int, name: str) -> Tag:
    name = _valid(name)
    async with db.session() as session:
        tag = await _find(session, name)
        if tag is None:
            return Tag(name=name)  # nobody used it, so nobody follows it: already unfollowed
        row = (await session.exec(select(TagFollow).where(TagFollow.account_id == account_id,
                                                          TagFollow.tag_id == tag.id))).first()
        if row is not None:
            await session.delete(row)
        return tag


async def followed(session: AsyncSession, account_id: int, page) -> list[tuple[int, Tag]]:
    """`page` is an app.api.pagination.Page; paged by the follow row id, as Mastodon does."""
    query = page.apply(select(TagFollow.id, Tag).join(Tag, Tag.id == TagFollow.tag_id)
                       .where(TagFollow.account_id == account_id), TagFollow.id)
    return page.order(list((await session.exec(query)).all()), key=lambda row: row[0])


async def following_ids(session: AsyncSession, account_id: int | None, tag_ids: list[int]) -> set[int]:
    if account_id is None or not tag_ids:
        return set()
    rows = await session.exec(select(TagFollow.tag_id).where(TagFollow.account_id == account_id,
                                                             TagFollow.tag_id.in_(tag_ids)))
    return set(rows.all())
