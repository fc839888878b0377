"""Mastodon pagination: max_id / since_id / min_id / limit, and the Link header.

    page = Page.from_params(params)
    query = page.apply(select(Status), Status.id)
    rows = ...
    return json_response(items, headers=page.link_header(request, [r.id for r in rows]))

max_id: older than; since_id: newer than (newest first); min_id: newer than,
oldest first (so scrolling up never skips). Results are always returned newest first.

The Link header follows each Mastodon controller: timelines and notifications give next
whenever the page holds anything; the other lists only when it is full (records_continue?),
and account lists give prev by since_id where the rest give min_id:

    page.link_header(request, ids, continues=page.full(rows), prev_key="since_id")
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.requests import Request

from app.api.params import whole_number
from app.config import get_settings
from app.errors import invalid
from app.services.ids import MAX_ID


def _id(params: dict, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:  # "³" is a digit to isdigit
        raise invalid(name, f"{name} must be a numeric ID")
    # Beyond bigint, PostgreSQL would refuse the comparison (a 500). No id reaches the largest
    # bigint, so it means the same: max_id above every id, since_id/min_id with nothing above.
    return min(int(text), MAX_ID)


@dataclass
class Page:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    @classmethod
    def from_params(cls, params: dict, default: int = 20, maximum: int = 40) -> "Page":
        raw_limit = params.get("limit")
        limit = default
        if raw_limit not in (None, ""):
            limit = whole_number("limit", raw_limit)
            if limit < 1:
                raise invalid("limit", "limit must be at least 1")
            limit = min(limit, maximum)  # Mastodon clamps rather than refuses
        return cls(_id(params, "max_id"), _id(params, "since_id"), _id(params, "min_id"), limit)

    def apply(self, query, column):
        """Filter and order a SQLAlchemy select by `column` (a snowflake ID column)."""
        if self.max_id is not None:
            query = query.where(column < self.max_id)
        if self.since_id is not None:
            query = query.where(column > self.since_id)
        if self.min_id is not None:
            query = query.where(column > self.min_id).order_by(column.asc())
        else:
            query = query.order_by(column.desc())
        return query.limit(self.limit)

    def order(self, rows: list, key=lambda row: row.id) -> list:
        """Rows fetched with `apply`, newest first (min_id fetches oldest first)."""
        return sorted(rows, key=key, reverse=True) if self.min_id is not None else rows

    def full(self, rows) -> bool:
        """As many rows as asked for (Mastodon's records_continue?): there may be more. Count
        what the query returned, before anything is dropped from it."""
        return len(rows) >= self.limit

    def link_header(self, request: Request, ids: list[int], *, continues: bool = True,
                    prev_key: str = "min_id") -> dict[str, str]:
        """`Link` with next (older) and prev (newer) pages; empty when there is nothing.
        continues=False leaves next out (a short page is the last); prev_key is the cursor the
        prev link uses: "min_id", or "since_id" as Mastodon's account lists."""
        if prev_key not in ("min_id", "since_id"):
            raise ValueError(f"prev_key must be min_id or since_id, not {prev_key!r}")
        if not ids:
            return {}
        # The path as a URI again (a hashtag timeline's path may hold any letter, and a header
        # only Latin-1): request.url carries it decoded. On the instance's own base URL, not the
        # request's scheme and Host: behind a proxy those may be http:// or an internal name,
        # which https apps refuse to follow (mixed content, app transport security).
        path = request.scope["path"]  # decoded; with any root_path in it already (ASGI 2.3, uvicorn)
        base = get_settings().base_url + quote(path, safe="/:@!$&'()*+,;=-._~")
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "since_id", "min_id")]

        def url(key: str, value: int) -> str:
            return f"{base}?{urlencode(kept + [(key, str(value))])}"

        links = [f'<{url("max_id", min(ids))}>; rel="next"'] if continues else []
        links.append(f'<{url(prev_key, max(ids))}>; rel="prev"')
        return {"Link": ", ".join(links)}
