"""Application and CredentialApplication, as Mastodon 4.3 renders them."""
from __future__ import annotations

import functools

from app.config import get_settings
from app.models import Application
from app.security import vapid_public_key


@functools.lru_cache(maxsize=4)
def _vapid_key(secret_key: str) -> str:
    return vapid_public_key(secret_key)


def application(app: Application) -> dict:
    """GET /api/v1/apps/verify_credentials. `redirect_uri` is the deprecated newline-joined form."""
    uris = app.redirect_uri_list
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": _vapid_key(get_settings().secret_key),
    }


def credential_application(app: Application) -> dict:
    """POST /api/v1/apps: the only time the client secret is shown. Secrets never expire (0)."""
    return {
        **application(app),
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "client_secret_expires_at": 0,
    }
