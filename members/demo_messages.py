"""Demo direct messages for ``seed_demo`` (issue 9, item 1): a few conversations between demo members, written
through the services. Idempotent: a conversation whose subject is already among the starter's is not made again."""

from __future__ import annotations

from django.db import transaction

from members import services_messages as services
from members.models import Conversation

CONVERSATIONS = [
    {
        "subject": "Record linkage between the census and the business register",
        "people": (0, 1),
        "messages": [
            (
                0,
                "Hello! I saw your talk on probabilistic record linkage. We are trying to link the 2022 census "
                "to our business register and the match rate is stuck around 81%. Did you block on district "
                "codes or on name phonetics?",
            ),
            (
                1,
                "Thanks for writing! We blocked on district **and** a Soundex of the surname, then used "
                "Fellegi–Sunter weights on date of birth, sex and address tokens. Clerical review of the grey "
                "zone brought us from 79% to 88%.",
            ),
            (0, "Very helpful. Would you share the threshold settings you used for the grey zone?"),
            (1, "Of course: upper threshold 12.5, lower 4.0. I can send our review guidelines next week."),
        ],
    },
    {
        "subject": "Planning the data integration workshop",
        "people": (1, 2, 3),
        "messages": [
            (
                2,
                "Shall we fix the agenda for the regional workshop on administrative data? I suggest three "
                "sessions: legal access to registers, linkage methods, and quality reporting.",
            ),
            (3, "Good plan. I can run the quality reporting session with examples from our labour force survey."),
            (1, "I will take linkage methods. Could we hold it in the week of 14 October, online?"),
            (2, "Works for me. I will draft the invitation and share it here before sending it out."),
        ],
    },
    {
        "subject": "Small-area estimates of poverty",
        "people": (3, 0),
        "messages": [
            (3, "Quick question: does your office publish small-area estimates of poverty, and with which model?"),
            (0, "Yes, a Fay–Herriot model at district level, with census covariates. Happy to share the code."),
        ],
    },
]


@transaction.atomic
def seed_demo_messages(users: list) -> None:
    """Create 2-3 conversations between the first demo members of ``users`` (needs at least two; the group
    conversation needs four). A second run creates nothing new."""
    users = [u for u in users if u.is_active and getattr(u, "deleted_at", None) is None]
    for spec in CONVERSATIONS:
        if max(spec["people"]) >= len(users):
            continue
        people = [users[i] for i in spec["people"]]
        starter = people[0]
        if Conversation.objects.filter(created_by=starter, subject=spec["subject"]).exists():
            continue
        (_first, first_body), *replies = spec["messages"]
        conversation = services.conversation_start(
            actor=starter, recipients=people[1:], subject=spec["subject"], body=first_body
        )
        for who, body in replies:
            services.message_send(actor=users[who], conversation=conversation, body=body)
