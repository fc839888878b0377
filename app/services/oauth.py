"""OAuth 2 as Mastodon (Doorkeeper) does it: app registration, browser sign-in,
authorization codes with PKCE, the token grants and revocation.

    OAuthError               {"error": "<code>", "error_description": "..."} (RFC 6749 5.2)
    AuthorizationRefused     a bad /oauth/authorize request; `redirect_uri` is None when
                             the client or redirect URI cannot be trusted, so the user is
                             shown a page and never sent anywhere (RFC 6749 4.1.2.1)
    SignInRefused            wrong credentials, or an account that may not sign in

Every secret (codes, tokens) is stored hashed; codes live ten minutes and work once.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from sqlalchemy import or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.errors import ApiError, Validation
from app.models import AccessToken, Account, Application, AuthorizationCode, User
from app.models.base import utcnow
from app.security import constant_time_equal, hash_password, hash_token, random_token, verify_password
from app.services import accounts
from app.services import scopes as scope_rules
from app.services import streaming, tokens
from app.services.tokens import IssuedToken

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)  # Doorkeeper's default, which Mastodon keeps
NAME_MAX = 60  # Mastodon's limits for app registration
URI_MAX = 2000
FORBIDDEN_SCHEMES = {"data", "vbscript", "javascript"}
PKCE_METHODS = ["S256"]  # Mastodon refuses `plain`
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 4.1

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
    "used in the authorization request, or was issued to another client."
)
INVALID_SCOPE = "The requested scope is invalid, unknown, or malformed."


class OAuthError(ApiError):
    def __init__(self, error: str, description: str, status_code: int = 400):
        super().__init__(error, status_code, error_description=description)
        self.error, self.description = error, description


def invalid_client() -> OAuthError:
    return OAuthError(
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, "
        "or unsupported authentication method.",
        401,
    )


def invalid_grant(detail: str) -> OAuthError:
    return OAuthError("invalid_grant", f"{INVALID_GRANT} {detail}")


def missing(parameter: str) -> OAuthError:
    return OAuthError("invalid_request", f"The request is missing a required parameter: {parameter}.")


# ---------------------------------------------------------------- registration

def split_redirect_uris(raw: list | str | None) -> list[str]:
    """Mastodon takes one string (URIs separated by whitespace or newlines) or an array."""
    items = raw if isinstance(raw, list) else [raw or ""]
    return [uri for item in items for uri in str(item).split()]


def _redirect_uri_problem(uri: str) -> str | None:
    if uri == OOB:
        return None
    if len(uri) > URI_MAX:
        return f"is too long (maximum is {URI_MAX} characters)"
    parts = urlsplit(uri)
    if not parts.scheme or (parts.scheme.lower() in ("http", "https") and not parts.netloc):
        return "must be an absolute URI"
    if parts.fragment:
        return "cannot contain a fragment"
    if parts.scheme.lower() in FORBIDDEN_SCHEMES:
        return "is forbidden by the server"
    return None


async def register_app(
    session: AsyncSession, *, name: str | None, redirect_uris: list | str | None, scopes, website: str | None
) -> Application:
    """POST /api/v1/apps: a confidential client with a fresh id and secret (raises ValidationFailed)."""
    problems = Validation()
    name = (name or "").strip()
    if not name:
        problems.add("name", "ERR_BLANK", "can't be blank")
    elif len(name) > NAME_MAX:
        problems.add("name", "ERR_TOO_LONG", f"is too long (maximum is {NAME_MAX} characters)")
    uris = split_redirect_uris(redirect_uris)
    if not uris:
        problems.add("redirect_uri", "ERR_BLANK", "can't be blank")
    for uri in uris:
        problem = _redirect_uri_problem(uri)
        if problem:
            problems.add("redirect_uri", "ERR_INVALID", f"{problem}: {uri[:100]}")
    requested = scope_rules.parse(scopes)
    unknown = scope_rules.unknown(requested)
    if unknown:
        problems.add("scopes", "ERR_INVALID", f"contains unknown scopes: {' '.join(unknown)[:200]}")
    website = (website or "").strip() or None
    if website is not None:
        parts = urlsplit(website)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(website) > URI_MAX:
            problems.add("website", "ERR_INVALID", "is not a valid URL")
    problems.raise_if_any()
    application = Application(
        name=name,
        website=website,
        redirect_uris="\n".join(uris),
        scopes=" ".join(requested),
        client_id=random_token(),
        client_secret=random_token(),
    )
    session.add(application)
    await session.flush()
    return application


async def find_app(session: AsyncSession, client_id: str | None) -> Application | None:
    if not client_id or "\x00" in client_id:  # PostgreSQL cannot compare with a NUL
        return None
    return (await session.exec(select(Application).where(Application.client_id == client_id))).first()


# ---------------------------------------------------------------- browser sign-in

class SignInRefused(Exception):
    def __init__(self, message: str, status_code: int):
        super().__init__(message)
        self.message, self.status_code = message, status_code


WRONG_CREDENTIALS = "Invalid e-mail address or password."
UNCONFIRMED = "You have to confirm your e-mail address first."
PENDING = "Your account is still pending review by the moderators of this server. We will e-mail you once it is approved."
DISABLED = "Your account has been disabled by the moderators of this server."
SUSPENDED = "Your account has been suspended by the moderators of this server."

@functools.cache
def _dummy_hash() -> str:
    """Unknown e-mail addresses still pay for one password check, so timing does not tell them apart."""
    return hash_password(random_token())


def sign_in_problem(user: User, account: Account) -> SignInRefused | None:
    """Why this (correctly authenticated) user may not use a browser session, if they may not."""
    if account.suspended_at is not None:
        return SignInRefused(SUSPENDED, 403)
    if user.disabled:
        return SignInRefused(DISABLED, 403)
    if not user.confirmed:
        return SignInRefused(UNCONFIRMED, 403)
    if not user.approved:
        return SignInRefused(PENDING, 403)
    return None


async def authenticate_user(session: AsyncSession, email: str, password: str) -> tuple[User, Account]:
    """The user behind an e-mail and password, or SignInRefused with the reason to show."""
    user = await accounts.find_user_by_email(session, email) if email else None
    stored = user.password_hash if user else None
    valid = await asyncio.to_thread(lambda: verify_password(stored or _dummy_hash(), password or ""))
    if user is None or not valid:
        raise SignInRefused(WRONG_CREDENTIALS, 401)
    account = await session.get(Account, user.account_id)
    problem = sign_in_problem(user, account)
    if problem:
        raise problem
    return user, account


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not target or any(c in target for c in "\\\r\n\t") or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# ---------------------------------------------------------------- authorization endpoint

class AuthorizationRefused(Exception):
    def __init__(self, error: str, description: str, redirect_uri: str | None = None, state: str | None = None):
        super().__init__(description)
        self.error, self.description = error, description
        self.redirect_uri, self.state = redirect_uri, state

    @property
    def redirectable(self) -> bool:
        return self.redirect_uri is not None and self.redirect_uri != OOB

    def location(self) -> str:
        return with_query(self.redirect_uri or "", error=self.error, error_description=self.description, state=self.state)


@dataclass
class AuthorizationRequest:
    application: Application
    redirect_uri: str
    scopes: list[str]
    state: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    @property
    def oob(self) -> bool:
        return self.redirect_uri == OOB

    def fields(self) -> dict[str, str]:
        """The request as form fields, so the consent form can post it back."""
        values = {
            "response_type": "code",
            "client_id": self.application.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
        }
        return {k: v for k, v in values.items() if v is not None}


async def check_authorization(session: AsyncSession, params: dict[str, str]) -> AuthorizationRequest:
    """Validate an authorization request (query of GET /oauth/authorize or the consent form)."""
    application = await find_app(session, params.get("client_id"))
    if application is None:
        raise AuthorizationRefused(
            "invalid_client", "This application is unknown to this server: its client_id is missing or invalid."
        )
    redirect_uri = params.get("redirect_uri") or ""
    if redirect_uri not in application.redirect_uri_list:
        raise AuthorizationRefused(
            "invalid_redirect_uri",
            "The redirect URI is missing or is not one of the URIs this application registered.",
        )
    state = params.get("state") or None

    def refused(error: str, description: str) -> AuthorizationRefused:
        return AuthorizationRefused(error, description, redirect_uri, state)

    if params.get("response_type") != "code":
        raise refused("unsupported_response_type", "The authorization server only supports response_type=code.")
    requested = scope_rules.parse(params.get("scope"))
    if scope_rules.unknown(requested) or not scope_rules.subset(requested, application.scopes.split()):
        raise refused("invalid_scope", f"{INVALID_SCOPE} This application registered: {application.scopes}.")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if method and not challenge:
        raise refused("invalid_request", "The request is missing a required parameter: code_challenge.")
    if challenge:
        # RFC 7636 makes `plain` the default method; Mastodon supports S256 only.
        if (method or "plain") not in PKCE_METHODS:
            raise refused("invalid_request", "The code_challenge_method must be S256.")
        if not _PKCE_VALUE.match(challenge):
            raise refused("invalid_request", "The code_challenge is malformed.")
    return AuthorizationRequest(application, redirect_uri, requested, state, challenge, method)


async def grant_code(session: AsyncSession, request: AuthorizationRequest, account: Account) -> str:
    """The user said yes: a single-use code bound to the app, redirect URI, scopes and PKCE challenge."""
    code = random_token()
    session.add(
        AuthorizationCode(
            application_id=request.application.id,
            account_id=account.id,
            code_hash=hash_token(code),
            redirect_uri=request.redirect_uri,
            scopes=" ".join(request.scopes),
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            expires_at=utcnow() + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


def with_query(uri: str, **params: str | None) -> str:
    """`uri` with extra query parameters, keeping the ones it already has."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


# ---------------------------------------------------------------- token endpoint

@dataclass
class TokenRequest:
    grant_type: str | None
    client_id: str | None = None
    client_secret: str | None = None
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    refresh_token: str | None = None
    scope: object = None


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """client_id and client_secret from `Authorization: Basic` (RFC 6749 2.3.1), if sent."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid_client() from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise invalid_client()
    return unquote(client_id), unquote(secret)


async def authenticate_client(session: AsyncSession, client_id: str | None, client_secret: str | None) -> Application:
    application = await find_app(session, client_id)
    if application is None or not client_secret or not constant_time_equal(application.client_secret, client_secret):
        raise invalid_client()
    return application


async def issue_token(session: AsyncSession, request: TokenRequest) -> IssuedToken:
    """POST /oauth/token for every grant type we support."""
    if not request.grant_type:
        raise missing("grant_type")
    application = await authenticate_client(session, request.client_id, request.client_secret)
    if request.grant_type == "authorization_code":
        return await _redeem_code(session, application, request)
    if request.grant_type == "client_credentials":
        return await _client_credentials(session, application, request)
    if request.grant_type == "refresh_token":
        return await _refresh(session, application, request)
    raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return constant_time_equal(computed, challenge)


async def _revoke_code_family(session: AsyncSession, code: AuthorizationCode) -> list[int]:
    revoked = await session.execute(
        update(AccessToken)
        .where(AccessToken.authorization_code_id == code.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(AccessToken.id)
        .execution_options(accounts_changed=[code.account_id])  # see token_owners
    )
    return list(revoked.scalars().all())


async def _redeem_code(session: AsyncSession, application: Application, request: TokenRequest) -> IssuedToken:
    if not request.code:
        raise missing("code")
    code = (
        await session.exec(select(AuthorizationCode).where(AuthorizationCode.code_hash == hash_token(request.code)))
    ).first()
    if code is None or code.application_id != application.id:
        raise invalid_grant("The authorization code is unknown.")
    if code.used_at is not None:
        await _replayed(session, code)
    if code.expires_at <= utcnow():
        raise invalid_grant("The authorization code has expired.")
    if request.redirect_uri != code.redirect_uri:
        raise invalid_grant("The redirect_uri differs from the one used in the authorization request.")
    if code.code_challenge:
        if not request.code_verifier:
            raise missing("code_verifier")
        if not pkce_matches(request.code_verifier, code.code_challenge):
            raise invalid_grant("The code_verifier does not match the code_challenge.")
    account = await session.get(Account, code.account_id)
    user = (await session.exec(select(User).where(User.account_id == code.account_id))).first()
    if account is None or user is None or sign_in_problem(user, account):
        raise invalid_grant("The account that granted it can no longer sign in.")
    # Claim the code atomically: of two concurrent redemptions only one wins.
    claimed = await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code.id, AuthorizationCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        await _replayed(session, code)
    issued = await tokens.issue(
        session, application_id=application.id, account_id=code.account_id, scopes=code.scopes.split(), with_refresh=True
    )
    issued.row.authorization_code_id = code.id
    return issued


async def _replayed(session: AsyncSession, code: AuthorizationCode) -> None:
    """A code used twice may have been stolen: revoke what it gave (RFC 6749 4.1.2)."""
    revoked = await _revoke_code_family(session, code)
    # The request fails, but the revocation must stick, be seen by every process at once, and
    # its tokens' open streams close now.
    await db.commit_now(session)
    await streaming.disconnect_now(revoked)
    raise invalid_grant("The authorization code was already used; the tokens issued with it have been revoked.")


async def _client_credentials(session: AsyncSession, application: Application, request: TokenRequest) -> IssuedToken:
    requested = scope_rules.parse(request.scope)
    if scope_rules.unknown(requested) or not scope_rules.subset(requested, application.scopes.split()):
        raise OAuthError("invalid_scope", f"{INVALID_SCOPE} This application registered: {application.scopes}.")
    return await tokens.issue(session, application_id=application.id, account_id=None, scopes=requested)


async def _refresh(session: AsyncSession, application: Application, request: TokenRequest) -> IssuedToken:
    if not request.refresh_token:
        raise missing("refresh_token")
    old = (
        await session.exec(select(AccessToken).where(AccessToken.refresh_token_hash == hash_token(request.refresh_token)))
    ).first()
    if old is None or old.application_id != application.id or old.revoked_at is not None:
        raise invalid_grant("The refresh token is unknown or was already used.")
    granted = old.scopes.split()
    requested = scope_rules.parse(request.scope, default=old.scopes)
    if not all(scope in granted for scope in requested):
        raise OAuthError("invalid_scope", f"{INVALID_SCOPE} A refreshed token cannot gain scopes.")
    # Rotation: the old access and refresh tokens die with this request (atomically, against races).
    rotated = await session.execute(
        update(AccessToken).where(AccessToken.id == old.id, AccessToken.revoked_at.is_(None)).values(revoked_at=utcnow())
        .execution_options(accounts_changed=[old.account_id] if old.account_id else None)  # see token_owners
    )
    if rotated.rowcount != 1:
        raise invalid_grant("The refresh token is unknown or was already used.")
    streaming.disconnect_after_commit(session, [old.id])
    issued = await tokens.issue(
        session, application_id=application.id, account_id=old.account_id, scopes=requested, with_refresh=True
    )
    issued.row.authorization_code_id = old.authorization_code_id
    return issued


# ---------------------------------------------------------------- revocation

async def revoke(session: AsyncSession, client_id: str | None, client_secret: str | None, token: str | None) -> None:
    """POST /oauth/revoke (RFC 7009): unknown tokens are fine; other apps' tokens are not."""
    application = await authenticate_client(session, client_id, client_secret)
    if not token:
        raise OAuthError("unauthorized_client", "You are not authorized to revoke this token", 403)
    hashed = hash_token(token)
    row = (
        await session.exec(
            select(AccessToken).where(or_(AccessToken.token_hash == hashed, AccessToken.refresh_token_hash == hashed))
        )
    ).first()
    if row is None:
        return
    if row.application_id != application.id:
        raise OAuthError("unauthorized_client", "You are not authorized to revoke this token", 403)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        streaming.disconnect_after_commit(session, [row.id])
