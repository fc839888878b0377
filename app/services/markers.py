"""Markers: the last read position in the home and notifications timelines, shared between apps.

    found = await markers.fetch(session, me, ["home", "notifications"])   # {timeline: Marker}
    saved = await markers.save(session, me, {"home": 1234})

Every save that moves a marker moves `version` up by one (Mastodon's optimistic lock counter),
so apps can tell that another device moved it; saving the same position again changes nothing
(as Rails, which writes only what changed). The first save answers 1, as Mastodon's does (it
creates the row, version 0, then moves it).
"""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Account, Marker
from app.models.base import utcnow
from app.models.marker import TIMELINES


async def fetch(session: AsyncSession, account: Account, timelines: list[str]) -> dict[str, Marker]:
    wanted = [t for t in timelines if t in TIMELINES]
    if not wanted:
        return {}
    rows = (await session.exec(select(Marker).where(Marker.account_id == account.id,
                                                    Marker.timeline.in_(wanted)))).all()
    return {m.timeline: m for m in rows}


async def save(session: AsyncSession, account: Account, positions: dict[str, int]) -> dict[str, Marker]:
    saved = {}
    for timeline, last_read_id in positions.items():
        now = utcnow()
        statement = insert(Marker).values(account_id=account.id, timeline=timeline, last_read_id=last_read_id,
                                          version=1, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["account_id", "timeline"],
            set_={"last_read_id": last_read_id, "version": Marker.version + 1, "updated_at": now},
            where=Marker.last_read_id != last_read_id,  # the same position again changes nothing
        ).returning(Marker)
        saved[timeline] = (await session.execute(statement)).scalars().first() or (await session.exec(
            select(Marker).where(Marker.account_id == account.id, Marker.timeline == timeline))).one()
    return saved
