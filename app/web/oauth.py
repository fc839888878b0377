"""The browser side of OAuth: sign in, sign out, and the consent page at /oauth/authorize.

GET /oauth/authorize checks the request first: an unknown client or an
unregistered redirect URI gets an error page (never a redirect); other problems
go back to the app on its redirect URI. A visitor who is not signed in goes to
/auth/sign_in and comes back; a signed-in user sees the consent page, whose form
posts every parameter back to be checked again before a code is issued.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import db
from app.errors import ApiError
from app.services import oauth
from app.web import sessions
from app.web.pages import form, render

# What each top-level scope lets the app do, for the consent page.
SCOPE_TEXT = {
    "read": "Read all your account's data",
    "write": "Modify all your account's data",
    "follow": "Follow, mute and block accounts",
    "push": "Receive your push notifications",
    "profile": "Read only your account's profile information",
    "admin:read": "Read all data on the server",
    "admin:write": "Moderate users and content on the server",
}
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_NO_FRAMING = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
AUTH_FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
               "code_challenge_method", "lang")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "t", "on", "yes")


def _lang(params) -> str | None:
    value = params.get("lang") or None
    return value if value and _LANG.match(value) else None


def describe(scope: str) -> str:
    if scope in SCOPE_TEXT:
        return SCOPE_TEXT[scope]
    head, _, rest = scope.rpartition(":")
    return f"{SCOPE_TEXT.get(head, head)}: {rest.replace('_', ' ')} only"


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=302)


def _sign_in_url(next_path: str) -> str:
    return "/auth/sign_in?" + urlencode({"next": next_path})


# ---------------------------------------------------------------- sign in / out

def _sign_in_page(request: Request, *, next_path: str, status_code: int = 200, error: str | None = None,
                  email: str = "", unconfirmed: bool = False) -> Response:
    response = render(request, "auth/sign_in.html", status_code=status_code, error=error, email=email,
                      next=next_path, unconfirmed=unconfirmed)
    response.headers.update(_NO_FRAMING)
    return response


async def sign_in_page(request: Request):
    next_path = oauth.safe_next(request.query_params.get("next"))
    async with db.session() as session:
        signed_in = await sessions.current(session, request)
    if signed_in:
        return _redirect(next_path)
    return _sign_in_page(request, next_path=next_path)


async def sign_in(request: Request):
    try:
        data = await form(request)
    except ApiError as refused:  # CSRF: show the form again rather than a bare JSON error
        raw = await request.form()
        return _sign_in_page(request, next_path=oauth.safe_next(raw.get("next")), status_code=refused.status_code,
                             error=refused.message, email=str(raw.get("email", "")))
    email, password = str(data.get("email", "")).strip(), str(data.get("password", ""))
    next_path = oauth.safe_next(str(data.get("next", "")))
    response = _redirect(next_path)
    try:
        async with db.session() as session:
            user, _ = await oauth.authenticate_user(session, email, password)
            await sessions.end(session, request, response)  # a new sign-in replaces the old session
            await sessions.start(session, request, response, user)
    except oauth.SignInRefused as refused:
        return _sign_in_page(request, next_path=next_path, status_code=refused.status_code, error=refused.message,
                             email=email, unconfirmed=refused.message == oauth.UNCONFIRMED)
    return response


async def sign_out(request: Request):
    await form(request)
    response = RedirectResponse("/", status_code=303)
    async with db.session() as session:
        await sessions.end(session, request, response)
    return response


# ---------------------------------------------------------------- authorize

def _refusal_page(request: Request, refused: oauth.AuthorizationRefused) -> Response:
    """Errors that must not (or cannot) go back to the app are shown to the user."""
    if refused.redirectable:
        return _redirect(refused.location())
    return render(request, "oauth/error.html", status_code=400, error=refused.description, code=refused.error)


async def authorize_page(request: Request):
    params = dict(request.query_params)
    lang = _lang(params)
    async with db.session() as session:
        try:
            auth = await oauth.check_authorization(session, params)
        except oauth.AuthorizationRefused as refused:
            return _refusal_page(request, refused)
        signed_in = await sessions.current(session, request)
        problem = signed_in and oauth.sign_in_problem(*signed_in)
        if signed_in and (problem or _truthy(params.get("force_login"))):
            # force_login: sign in again (perhaps as someone else); a blocked user must too.
            come_back = {k: v for k, v in params.items() if k != "force_login"}
            response = _redirect(_sign_in_url("/oauth/authorize?" + urlencode(come_back)))
            await sessions.end(session, request, response)
            return response
    if not signed_in:
        return _redirect(_sign_in_url("/oauth/authorize?" + urlencode(params)))
    user, account = signed_in
    response = render(
        request, "oauth/authorize.html", app=auth.application, account=account, lang=lang,
        scopes=[(scope, describe(scope)) for scope in auth.scopes], fields={**auth.fields(), "lang": lang},
    )
    response.headers.update(_NO_FRAMING)
    return response


async def authorize(request: Request):
    data = await form(request)
    params = {name: str(data[name]) for name in AUTH_FIELDS if data.get(name)}
    async with db.session() as session:
        try:
            auth = await oauth.check_authorization(session, params)
        except oauth.AuthorizationRefused as refused:
            return _refusal_page(request, refused)
        signed_in = await sessions.current(session, request)
        if not signed_in or oauth.sign_in_problem(*signed_in):
            return _redirect(_sign_in_url("/oauth/authorize?" + urlencode(params)))
        if data.get("decision") != "authorize":
            denied = oauth.AuthorizationRefused("access_denied", "The resource owner denied the request.",
                                                auth.redirect_uri, auth.state)
            if denied.redirectable:
                return _redirect(denied.location())
            return render(request, "oauth/error.html", status_code=200, code="access_denied",
                          error="You denied this application access to your account.")
        code = await oauth.grant_code(session, auth, signed_in[1])
    if auth.oob:
        return render(request, "oauth/code.html", app=auth.application, code=code, lang=_lang(params))
    return _redirect(oauth.with_query(auth.redirect_uri, code=code, state=auth.state))


routes = [
    Route("/auth/sign_in", sign_in_page, methods=["GET"]),
    Route("/auth/sign_in", sign_in, methods=["POST"]),
    Route("/auth/sign_out", sign_out, methods=["POST"]),
    Route("/oauth/authorize", authorize_page, methods=["GET"]),
    Route("/oauth/authorize", authorize, methods=["POST"]),
]
