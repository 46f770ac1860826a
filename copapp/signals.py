"""Signals that cross app boundaries without making apps import each other."""

from django.dispatch import Signal

# Sent by members.services.account_delete inside its transaction, with ``user``: each app erases the personal
# data it holds about that member (memberships, requests, invitations, drafts) and keeps their content.
account_erasing = Signal()
