"""All tables, imported here so metadata (and Alembic) sees every one."""
from sqlmodel import SQLModel

from app.models.account import Account, User
from app.models.conversation import AccountConversation
from app.models.filter import CustomFilter, CustomFilterKeyword, CustomFilterStatus
from app.models.follow import Block, Follow, FollowRequest, Mute
from app.models.interaction import Bookmark, ConversationMute, Favourite, StatusPin
from app.models.list import List, ListAccount
from app.models.marker import Marker
from app.models.media import MediaAttachment
from app.models.notification import (Notification, NotificationPermission, NotificationPolicy, NotificationRequest,
                                     NotificationSweep)
from app.models.preview_card import PreviewCard, StatusPreviewCard
from app.models.status import Mention, Poll, PollVote, Status, StatusEdit, StatusTag, Tag, Tombstone
from app.models.suggestion import SuggestionDismissal
from app.models.tag_follow import TagFollow
from app.models.instance import OutboxJob, Rule
from app.models.oauth import AccessToken, Application, AuthorizationCode, WebSession

metadata = SQLModel.metadata

__all__ = [
    "AccountConversation",
    "Block",
    "Bookmark",
    "ConversationMute",
    "CustomFilter",
    "CustomFilterKeyword",
    "CustomFilterStatus",
    "Favourite",
    "Follow",
    "FollowRequest",
    "List",
    "ListAccount",
    "Marker",
    "MediaAttachment",
    "Mention",
    "Mute",
    "Notification",
    "NotificationPermission",
    "NotificationPolicy",
    "NotificationRequest",
    "NotificationSweep",
    "Poll",
    "PollVote",
    "PreviewCard",
    "Status",
    "StatusEdit",
    "StatusPin",
    "StatusPreviewCard",
    "SuggestionDismissal",
    "StatusTag",
    "Tag",
    "TagFollow",
    "Tombstone",
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
