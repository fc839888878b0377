"""Rendering server pages, with CSRF protection for every form.

CSRF is a double-submit token: a random ``csrf`` cookie, echoed by every form as
the hidden field ``authenticity_token``. ``form(request)`` reads a POSTed form
and refuses it (403) when the two differ.
"""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.config import get_settings
from app.errors import ApiError
from app.security import constant_time_equal, random_token
from app.text import has_nul

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
CSRF_COOKIE = "csrf"
CSRF_FIELD = "authenticity_token"


def _csrf_token(request: Request) -> tuple[str, bool]:
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing, False
    return random_token(), True


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    token, fresh = _csrf_token(request)
    settings = get_settings()
    html = _env.get_template(template).render(
        request=request, csrf_field=CSRF_FIELD, csrf_token=token, instance_title=settings.instance_title, **context
    )
    response = HTMLResponse(html, status_code=status_code)
    if fresh:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=settings.scheme == "https")
    return response


async def form(request: Request) -> FormData:
    """The POSTed form, after the CSRF check."""
    data = await request.form()
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = str(data.get(CSRF_FIELD, ""))
    if not cookie or not sent or not constant_time_equal(cookie, sent):
        raise ApiError("Invalid authenticity token: reload the page and try again", 403)
    if has_nul(dict(data.multi_items())):  # PostgreSQL cannot store it: refuse rather than crash
        raise ApiError("The form must not contain NUL characters", 400)
    return data
