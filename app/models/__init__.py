"""All tables, imported here so metadata (and Alembic) sees every one."""
from sqlmodel import SQLModel

from app.models.account import Account, User
from app.models.instance import OutboxJob, Rule
from app.models.oauth import AccessToken, Application, AuthorizationCode, WebSession

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "AccessToken",
    "Application",
    "AuthorizationCode",
    "OutboxJob",
    "Rule",
    "User",
    "WebSession",
    "metadata",
]
