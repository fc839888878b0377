"""POST /api/v1/admin/accounts/:id/approve and /reject: the approval queue from a moderator's app.

Needs a user token with admin:write:accounts whose user is a moderator or admin.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app.api.auth import authenticated
from app.api.entities.admin_account import admin_account_json
from app.api.responses import json_response
from app.services import admin_accounts


@authenticated("admin:write:accounts")
async def approve(request: Request):
    admin_accounts.require_staff(request.state.auth.user)
    account, user = await admin_accounts.approve_by_id(request.path_params["id"])
    return json_response(admin_account_json(account, user))


@authenticated("admin:write:accounts")
async def reject(request: Request):
    admin_accounts.require_staff(request.state.auth.user)
    account, user = await admin_accounts.reject_by_id(request.path_params["id"])
    return json_response(admin_account_json(account, user))


routes = [
    Route("/api/v1/admin/accounts/{id:int}/approve", approve, methods=["POST"]),
    Route("/api/v1/admin/accounts/{id:int}/reject", reject, methods=["POST"]),
]
