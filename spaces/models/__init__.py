from .comments import Comment, Watch
from .files import FileAsset, FileVersion
from .items import Item, ItemGroupObjectPermission, ItemKind, ItemUserObjectPermission, ModerationState
from .membership import (
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    SpaceBan,
    SpaceMembership,
)
from .pages import Page, PageDraft, PageEditPresence, PageTemplate
from .questions import Answer, Question, Tag, Vote
from .space import Space, SpaceGroupObjectPermission, SpaceRole, SpaceUserObjectPermission, Visibility

__all__ = [
    "Answer",
    "Question",
    "Tag",
    "Vote",
    "Comment",
    "FileAsset",
    "FileVersion",
    "Page",
    "PageDraft",
    "PageEditPresence",
    "PageTemplate",
    "Watch",
    "Invitation",
    "InvitationStatus",
    "Item",
    "ItemGroupObjectPermission",
    "ItemKind",
    "ItemUserObjectPermission",
    "JoinRequest",
    "JoinRequestStatus",
    "ModerationState",
    "Space",
    "SpaceBan",
    "SpaceGroupObjectPermission",
    "SpaceMembership",
    "SpaceRole",
    "SpaceUserObjectPermission",
    "Visibility",
]
