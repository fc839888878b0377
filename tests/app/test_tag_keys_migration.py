"""Migration 0013: tags whose names now share a key (#Café and #cafe) become one tag, the oldest,
with the posts and followers of all of them."""
from __future__ import annotations

import uuid

import psycopg

from app.migrate import upgrade
from tests.support import services


def _insert(conn, table: str, **given) -> int:
    """A row of `table` at this revision: `given`, and a plain value for every other required
    column without a default (the schema of 0012, which the models no longer describe)."""
    plain = {"text": "", "character varying": "", "boolean": False, "integer": 0, "bigint": 0,
             "timestamp with time zone": "2026-12-01 00:00+00", "json": "[]", "jsonb": "[]", "ARRAY": "{}"}
    for column, kind in conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
            "AND is_nullable = 'NO' AND column_default IS NULL", (table,)).fetchall():
        given.setdefault(column, f"{table}-{column}-{uuid.uuid4().hex}" if column in ("uri", "username") else plain[kind])
    names = ", ".join(f'"{name}"' for name in given)
    marks = ", ".join(["%s"] * len(given))
    return conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id", list(given.values())).fetchone()[0]


def test_tags_spelt_differently_are_merged_into_the_oldest():
    database = services.TestDatabase()  # a database of its own, migrated step by step
    url = database.create()
    try:
        upgrade(url, "0012")
        with psycopg.connect(url, autocommit=True) as conn:
            account = _insert(conn, "accounts", username="alice")
            tags = [conn.execute("INSERT INTO tags (name, created_at, last_status_at) VALUES (%s, now(), %s) "
                                 "RETURNING id", (name, f"2026-12-0{day} 12:00+00")).fetchone()[0]
                    for name, day in (("Café", 1), ("cafe", 3), ("ｃａｆｅ", 2), ("tea", 1))]
            posts = []
            for tag_id in tags[:3] + [tags[0]]:
                status = _insert(conn, "statuses", account_id=account, visibility="public")
                conn.execute("INSERT INTO status_tags (status_id, tag_id) VALUES (%s, %s)", (status, tag_id))
                posts.append(status)
            conn.execute("INSERT INTO status_tags (status_id, tag_id) VALUES (%s, %s)", (posts[0], tags[1]))  # both
            conn.execute("INSERT INTO tag_follows (account_id, tag_id, created_at) VALUES (%s, %s, now())",
                         (account, tags[2]))

        upgrade(url)

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT id, name, key, last_status_at::date::text FROM tags ORDER BY id").fetchall() == [
                (tags[0], "Café", "cafe", "2026-12-03"), (tags[3], "tea", "tea", "2026-12-01")]
            tagged = conn.execute("SELECT status_id FROM status_tags WHERE tag_id = %s ORDER BY status_id",
                                  (tags[0],)).fetchall()
            assert [row[0] for row in tagged] == sorted(posts)
            assert conn.execute("SELECT account_id, tag_id FROM tag_follows").fetchall() == [(account, tags[0])]
    finally:
        database.drop()
