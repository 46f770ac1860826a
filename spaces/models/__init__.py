from .comments import Comment, Watch
from .courses import Course, Enrolment, Lesson, LessonCompletion, Quiz, QuizAttempt, QuizOption, QuizQuestion
from .events import (
    Event,
    Paper,
    PaperStatus,
    Registration,
    RegistrationQuestion,
    RegistrationQuestionKind,
    RegistrationStatus,
)
from .feeds import FeedToken
from .files import FileAsset, FileVersion
from .items import Item, ItemGroupObjectPermission, ItemKind, ItemUserObjectPermission, ModerationState
from .membership import (
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    SpaceBan,
    SpaceMembership,
    SpaceVisit,
)
from .moderation import Flag, FlagReason, FlagStatus, ModerationAction, ModerationLogEntry
from .pages import Page, PageDraft, PageEditPresence, PageTemplate
from .polls import Poll, PollOption, PollVote, ResultsShown
from .posts import Bookmark, Mention, Post, Reaction
from .questions import Answer, Question, Tag, Vote
from .search import SearchWord, SearchWordQueue
from .space import Space, SpaceGroupObjectPermission, SpaceRole, SpaceUserObjectPermission, Visibility
from .webhooks import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent, WebhookFormat
from .workplan import Milestone, MilestoneStatus, WorkPlan

__all__ = [
    "SearchWord",
    "SearchWordQueue",
    "Course",
    "Enrolment",
    "Lesson",
    "LessonCompletion",
    "Quiz",
    "QuizAttempt",
    "QuizOption",
    "QuizQuestion",
    "SpaceVisit",
    "Flag",
    "FlagReason",
    "FlagStatus",
    "ModerationAction",
    "ModerationLogEntry",
    "Bookmark",
    "Event",
    "FeedToken",
    "Mention",
    "Milestone",
    "MilestoneStatus",
    "Paper",
    "PaperStatus",
    "Poll",
    "PollOption",
    "PollVote",
    "Post",
    "Reaction",
    "Registration",
    "RegistrationQuestion",
    "RegistrationQuestionKind",
    "RegistrationStatus",
    "ResultsShown",
    "WorkPlan",
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
    "DeliveryStatus",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookFormat",
]
