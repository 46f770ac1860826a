"""Signals that cross app boundaries without making apps import each other."""

from django.dispatch import Signal

# Sent by members.services.account_delete inside its transaction, with ``user``: each app erases the personal
# data it holds about that member (memberships, requests, invitations, drafts) and keeps their content.
account_erasing = Signal()

# Sent by communities.services when a member is banned from a whole community (after the ``CommunityBan`` row is
# written), with ``ban`` and ``actor``; and before such a ban is lifted, with ``ban``, ``actor`` and ``reason``.
# The spaces app (above communities) bans or unbans the member in every space of the community and writes the
# moderation log entry, in the same transaction.
community_ban_set = Signal()
community_ban_lifting = Signal()
