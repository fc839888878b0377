"""The benchmarks' synthetic instance generator (tests/bench/synthetic.py) at a tiny scale, so it
cannot silently fall behind the schema or the API: counts agree with the rows, the follow graph
is skewed, ids are snowflakes of the posts' times, and the posts read back through the API."""
from __future__ import annotations

import asyncio
import statistics

from sqlalchemy import text

from app import db
from app.models import Account
from app.security import verify_password
from tests.bench.synthetic import PASSWORD, Params, generate, search_terms, snowflake
from tests.support.world import bearer, token_for


async def scalar(sql: str, **params):
    async with db.session() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def rows(sql: str, **params):
    async with db.session() as session:
        return (await session.execute(text(sql), params)).all()


async def test_tiny_synthetic_instance_is_consistent_and_served_by_the_api(settings, client):
    params = Params(accounts=50, posts=2000, followers=200, celebrities=1, min_follows=5, max_follows=30,
                    domain=settings.domain, scheme=settings.scheme)
    counts = await asyncio.to_thread(generate, settings.database_url, params, fresh=False, quiet=True)

    assert (counts.accounts, counts.users, counts.statuses) == (250, 250, 2000)
    assert await scalar("SELECT count(*) FROM accounts") == 250
    assert await scalar("SELECT count(*) FROM statuses") == 2000
    assert counts.replies > 0 and counts.boosts > 0 and counts.mentions > 0 and counts.status_tags > 0

    # Every count agrees with the rows it counts.
    assert await scalar("""SELECT count(*) FROM accounts a WHERE
        a.followers_count <> (SELECT count(*) FROM follows f WHERE f.target_account_id = a.id)
        OR a.following_count <> (SELECT count(*) FROM follows f WHERE f.account_id = a.id)
        OR a.statuses_count <> (SELECT count(*) FROM statuses s WHERE s.account_id = a.id)""") == 0
    assert await scalar("""SELECT count(*) FROM statuses p WHERE
        p.reblogs_count <> (SELECT count(*) FROM statuses b WHERE b.reblog_of_id = p.id)
        OR p.replies_count <> (SELECT count(*) FROM statuses r WHERE r.in_reply_to_id = p.id
                               AND r.visibility IN ('public', 'unlisted'))""") == 0

    # The celebrity has every follower-only fan; among the rest, popularity is skewed.
    celebrity = await scalar("SELECT followers_count FROM accounts WHERE username = 'celebrity_1'")
    assert celebrity >= 200
    others = [r[0] for r in await rows(
        "SELECT followers_count FROM accounts WHERE username NOT LIKE 'fan%' AND username <> 'celebrity_1'")]
    assert max(others) > 2 * statistics.median(others)
    following = [r[0] for r in await rows("SELECT following_count FROM accounts WHERE username NOT LIKE 'fan%'")]
    assert min(following) >= 5 and max(following) <= 30

    # Ids are starling_id() of the post's time; users can sign in and are confirmed and active.
    for status_id, created_at in await rows("SELECT id, created_at FROM statuses ORDER BY random() LIMIT 50"):
        assert status_id >> 16 == snowflake(created_at, 0) >> 16
    assert await scalar("SELECT count(*) FROM users WHERE confirmed_at IS NULL OR NOT approved") == 0
    assert await scalar("SELECT count(*) FROM users WHERE last_active_at > now() - interval '3 days'") >= 200
    assert verify_password(await scalar("SELECT password_hash FROM users LIMIT 1"), PASSWORD)

    # The posts are what the API serves: a reply with its mention, a hashtag, a boost.
    async with db.session() as session:
        reader = await session.get(Account, await scalar("SELECT id FROM accounts WHERE username NOT LIKE 'fan%' "
                                                         "ORDER BY following_count DESC LIMIT 1"))
    headers = bearer(await token_for(reader))
    reply_id, parent_id = (await rows("""SELECT r.id, r.in_reply_to_id FROM statuses r JOIN statuses p
        ON p.id = r.in_reply_to_id WHERE r.visibility = 'public' AND p.visibility = 'public'
        AND p.account_id <> r.account_id LIMIT 1"""))[0]
    reply = (await client.get(f"/api/v1/statuses/{reply_id}", headers=headers)).json()
    assert reply["in_reply_to_id"] == str(parent_id)
    assert reply["mentions"] and 'class="u-url mention"' in reply["content"]
    tagged_id, tag = (await rows("""SELECT s.id, t.name FROM statuses s JOIN status_tags st ON st.status_id = s.id
        JOIN tags t ON t.id = st.tag_id WHERE s.visibility = 'public' LIMIT 1"""))[0]
    tagged = (await client.get(f"/api/v1/statuses/{tagged_id}", headers=headers)).json()
    assert tag in [t["name"] for t in tagged["tags"]]
    boost_id, original_id = (await rows("SELECT id, reblog_of_id FROM statuses WHERE reblog_of_id IS NOT NULL "
                                        "LIMIT 1"))[0]
    boost = (await client.get(f"/api/v1/statuses/{boost_id}", headers=headers)).json()
    assert boost["reblog"]["id"] == str(original_id)
    author = (await rows("SELECT a.id, a.statuses_count FROM accounts a ORDER BY statuses_count DESC LIMIT 1"))[0]
    listed = await client.get(f"/api/v1/accounts/{author[0]}/statuses", params={"limit": 40}, headers=headers)
    assert listed.status_code == 200 and len(listed.json()) == min(40, author[1])

    # The named search terms are really there, common ones more than rare ones.
    terms = search_terms(params.seed)
    common = await scalar("SELECT count(*) FROM statuses WHERE text ~* :w", w=rf"\m{terms['common']}\M")
    assert common > 20
