from .items import Item, ItemKind, ItemUserObjectPermission, ItemGroupObjectPermission, ModerationState
from .membership import Invitation, InvitationStatus, JoinRequest, JoinRequestStatus, SpaceBan, SpaceMembership
from .space import Space, SpaceGroupObjectPermission, SpaceRole, SpaceUserObjectPermission, Visibility

__all__ = [
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
