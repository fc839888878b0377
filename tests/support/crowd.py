"""Many local followers at once, for fan-out tests: a few INSERT ... SELECT over
generate_series, not the API (making an account through the service generates an RSA
key: far too slow for thousands).

    ids = await followers_of(star, 3000)       # active local users following `star`
    await make_live(redis_client, ids)         # their home feeds exist (empty and complete)
    n = await holding(redis_client, ids, status_id)
"""
from __future__ import annotations

from sqlalchemy import Text, cast, func, insert, literal, select, update

from app import db
from app.models import Account, Follow, User
from app.models.base import utcnow
from app.services.feeds import store


def _constant_columns(model, sample, skip: set[str]) -> dict:
    """Every column of `model` but id and `skip`, as a literal of the sample row's default."""
    values = sample.model_dump(exclude={"id"} | skip)
    return {name: literal(value, type_=model.__table__.c[name].type) for name, value in values.items()}


async def followers_of(target: Account, n: int, *, prefix: str = "fan", active: bool = True) -> list[int]:
    now = utcnow()
    base = f"http://crowd.invalid/{prefix}/"
    series = func.generate_series(1, n).table_valued("i").render_derived()
    account_cols = _constant_columns(Account, Account(username="-", uri="-"), {"username", "uri"})
    account_cols["username"] = func.concat(prefix, series.c.i)
    account_cols["uri"] = func.concat(base, series.c.i)
    crowd = select(Account.id).where(Account.uri.startswith(base)).subquery()
    user_cols = _constant_columns(User, User(account_id=0, email="-", password_hash="-", confirmed_at=now,
                                             last_active_at=now if active else None), {"account_id", "email"})
    user_cols["account_id"] = crowd.c.id
    user_cols["email"] = func.concat(crowd.c.id, "@crowd.invalid")
    follow_cols = _constant_columns(Follow, Follow(account_id=0, target_account_id=target.id), {"account_id"})
    follow_cols["account_id"] = crowd.c.id
    async with db.session() as session:
        await session.execute(insert(Account).from_select(
            list(account_cols), select(*[c.label(k) for k, c in account_cols.items()]).select_from(series)))
        for model, cols in ((User, user_cols), (Follow, follow_cols)):
            await session.execute(insert(model).from_select(
                list(cols), select(*[c.label(k) for k, c in cols.items()]).select_from(crowd)))
        await session.execute(update(Account).where(Account.id == target.id)
                              .values(followers_count=Account.followers_count + n))
        joined = (await session.execute(select(func.string_agg(cast(crowd.c.id, Text), ",")))).scalar_one()
    return [int(i) for i in joined.split(",")]


async def make_live(redis_client, account_ids: list[int]) -> None:
    """Mark the feeds live and complete (as a rebuild of an empty feed leaves them)."""
    async with redis_client.pipeline(transaction=False) as pipe:
        for account_id in account_ids:
            pipe.set(store.floor_key(account_id), "0", ex=store.ttl_seconds())
        await pipe.execute()


async def holding(redis_client, account_ids: list[int], status_id: int) -> int:
    """How many of the accounts' feeds hold the status (one round trip)."""
    async with redis_client.pipeline(transaction=False) as pipe:
        for account_id in account_ids:
            pipe.zscore(store.feed_key(account_id), str(status_id))
        return sum(score is not None for score in await pipe.execute())
