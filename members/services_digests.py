"""Digests, the write side: the transactional outbox (``DigestRecord``), sending, and unsubscribing.

Never twice, never silently lost (issue 5, item 8):

1. **Record before anything else.** Each due member gets a ``pending`` record for (member, frequency, period
   end), inserted in bulk; the unique constraint makes a second insert for the same period a no-op, so two
   runs (two workers, a retried task, beat plus cron) enqueue each member once.
2. **Claim.** A batch of pending records is locked with ``SELECT ... FOR UPDATE SKIP LOCKED``: a concurrent
   run skips them and takes the next batch. The digests are composed while the lock is held; empty ones become
   ``skipped_empty``, already-seen ones ``skipped_seen``, and the rest ``sending`` (with ``sending_at``), and
   that transaction commits *before* the first byte goes to the mail server.
3. **Send, then record.** After SMTP the records become ``sent`` (and the digest's notifications ``sent``) in
   one more transaction. A refusal by the server is ``failed``; a message never tried (the connection broke
   first) goes back to ``pending``, which is safe to send on the next run.
4. **Crash.** A crash before step 2 commits leaves ``pending`` records (sent next run). A crash after it leaves
   ``sending`` records: nobody knows whether the mail server got them, so a later run marks them
   ``uncertain`` (logged, shown in the admin and on the preview page) and never resends them.

Every state change is a conditional ``UPDATE ... WHERE status = ...`` on a whole batch, so a batch costs the
same number of queries whether it holds 10 members or 500.
"""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.utils import timezone

from analytics.recording import record_activity
from members import digests
from members.models import (
    DigestFrequency,
    DigestRecord,
    DigestStatus,
    EmailState,
    Notification,
    NotificationPreferences,
)

logger = logging.getLogger("members.digests")

DONE = (DigestStatus.SENT, DigestStatus.UNCERTAIN, DigestStatus.SKIPPED_EMPTY, DigestStatus.SKIPPED_SEEN)
# The server answered "no": the message was certainly not accepted.
REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


@dataclass
class DigestRunReport:
    period_end: datetime
    enqueued: int = 0
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    uncertain: list[int] = field(default_factory=list)  # records found stuck in "sending" this run
    stopped: str = ""

    def add(self, status: str, n: int) -> None:
        if n:
            self.counts[status] = self.counts.get(status, 0) + n


def _batch_size(batch_size: int | None) -> int:
    return max(1, batch_size or settings.DIGEST_BATCH_SIZE)


# --- The job ------------------------------------------------------------------------------------------------
def digests_run(*, now: datetime | None = None, batch_size: int | None = None) -> DigestRunReport:
    """The hourly digest job (the beat task and ``manage.py send_digests`` both call it). Safe to run twice
    and at the same time as another run: see the module docstring."""
    now = now or timezone.now()
    report = DigestRunReport(period_end=digests.period_end_for(now))
    report.uncertain = digest_records_mark_uncertain()
    report.enqueued = digests_enqueue_due(now=now, batch_size=batch_size)
    while True:
        batch = digests_send_batch(period_end=report.period_end, batch_size=batch_size, report=report)
        if not batch or report.stopped:
            break
        report.batches += 1
    return report


def digests_enqueue_due(*, now: datetime, batch_size: int | None = None) -> int:
    """Write a ``pending`` record for every member due a digest at ``now`` (one insert per batch). Returns how
    many rows the query found; the unique constraint quietly drops those another run wrote first."""
    period_end = digests.period_end_for(now)
    rows = list(digests.due_members(now).values_list("pk", "digest_freq", "last_digest", "has_prefs"))
    size = _batch_size(batch_size)
    for offset in range(0, len(rows), size):
        chunk = rows[offset : offset + size]
        with transaction.atomic():
            NotificationPreferences.objects.bulk_create(
                [NotificationPreferences(user_id=pk) for pk, _f, _l, has_prefs in chunk if not has_prefs],
                ignore_conflicts=True,
            )
            DigestRecord.objects.bulk_create(
                [
                    DigestRecord(
                        user_id=pk,
                        frequency=frequency,
                        period_start=digests.period_start_for(frequency, last, period_end),
                        period_end=period_end,
                    )
                    for pk, frequency, last, _has in chunk
                ],
                ignore_conflicts=True,
            )
    return len(rows)


def digest_records_mark_uncertain(*, older_than: timedelta | None = None) -> list[int]:
    """Records left in ``sending`` (the worker died during SMTP) become ``uncertain``: reported, never resent.

    Only records handed to SMTP longer ago than ``DIGEST_SENDING_STALE_SECONDS`` count, so a run does not
    mistake another worker's digest in flight for a dead one. Returns the record ids.
    """
    older_than = older_than if older_than is not None else timedelta(seconds=settings.DIGEST_SENDING_STALE_SECONDS)
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stale = list(
            DigestRecord.objects.select_for_update(skip_locked=True)
            .filter(status=DigestStatus.SENDING, sending_at__lt=cutoff)
            .values_list("pk", "user_id", "period_end")
        )
        if not stale:
            return []
        ids = [pk for pk, _user, _end in stale]
        DigestRecord.objects.filter(pk__in=ids, status=DigestStatus.SENDING).update(
            status=DigestStatus.UNCERTAIN,
            detail="The worker stopped while handing this digest to the mail server; it was not sent again.",
        )
        _advance_last_digest({user_id for _pk, user_id, _end in stale})
    for pk, user_id, period_end in stale:
        logger.warning("digest %s of member %s for %s: outcome unknown, marked uncertain", pk, user_id, period_end)
    return ids


def digests_send_batch(*, period_end: datetime, batch_size: int | None = None, report: DigestRunReport) -> int:
    """Claim, compose and send one batch of pending records (periods ending at or before ``period_end``).
    Returns the number of records claimed (0: nothing left for this run)."""
    with transaction.atomic():
        records = list(
            DigestRecord.objects.select_for_update(skip_locked=True)
            .filter(status=DigestStatus.PENDING, period_end__lte=period_end)
            .order_by("period_end", "pk")[: _batch_size(batch_size)]
        )
        if not records:
            return 0
        outgoing = _compose_and_claim(records, report)
    # Committed: every digest below is "sending" before the mail server hears of it.
    outcome = _deliver(outgoing)
    with transaction.atomic():
        _record_outcome(outgoing, outcome, report)
    if outcome.broken:
        report.stopped = outcome.broken
    return len(records)


@dataclass
class _Outgoing:
    record_id: int
    user_id: int
    message: EmailMultiAlternatives
    notification_ids: list[int]
    item_count: int


def _compose_and_claim(records: list[DigestRecord], report: DigestRunReport) -> list[_Outgoing]:
    members = digests.load_members(record.user_id for record in records)
    jobs, gone = [], []
    for record in records:
        member = members.get(record.user_id)
        prefs = digests.prefs_of(member) if member is not None else None
        if member is None or not member.is_active or member.deleted_at or prefs.digest_frequency != record.frequency:
            gone.append(record.pk)
        else:
            jobs.append(digests.DigestJob(member, record.frequency, record.period_start, record.period_end, record.pk))
    composed = digests.compose_digests(jobs)
    by_status: dict[str, list[digests.Digest]] = {}
    outgoing: list[_Outgoing] = []
    failed: list[int] = list(gone)
    for digest in composed:
        status = digests.outcome_of(digest)
        if status != DigestStatus.SENDING:
            by_status.setdefault(status, []).append(digest)
            continue
        try:
            outgoing.append(_message(digest))
        except Exception:  # a template error must not hold the whole batch back, nor be retried forever
            logger.exception("digest %s could not be rendered", digest.job.record_id)
            failed.append(digest.job.record_id)
    for status, group in by_status.items():
        counts = {d.job.record_id: d.item_count for d in group}
        _transition(counts, DigestStatus.PENDING, status)
        report.add(status, len(group))
    if failed:
        DigestRecord.objects.filter(pk__in=failed, status=DigestStatus.PENDING).update(
            status=DigestStatus.FAILED,
            detail="Not sent: the member left, turned digests off or changed frequency, or it could not be rendered.",
        )
        report.add(DigestStatus.FAILED, len(failed))
    skipped = [d.member.pk for group in by_status.values() for d in group]
    if skipped:
        _advance_last_digest(skipped)
    if outgoing:
        _transition(
            {o.record_id: o.item_count for o in outgoing},
            DigestStatus.PENDING,
            DigestStatus.SENDING,
            sending_at=timezone.now(),
        )
    return outgoing


def _transition(counts: dict[int, int], old: str, new: str, **fields) -> int:
    """Move records from ``old`` to ``new`` in one UPDATE, writing each record's own item count."""
    if not counts:
        return 0
    item_count = Case(
        *[When(pk=pk, then=Value(n)) for pk, n in counts.items()], default=Value(0), output_field=IntegerField()
    )
    return DigestRecord.objects.filter(pk__in=list(counts), status=old).update(
        status=new, item_count=item_count, **fields
    )


def _message(digest: digests.Digest) -> _Outgoing:
    member = digest.member
    unsubscribe = digests.unsubscribe_url(member.pk, digest.job.record_id)
    subject, text, html = digests.render_digest(digest, unsubscribe=unsubscribe)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [member.email], headers=digests.unsubscribe_headers(unsubscribe)
    )
    message.attach_alternative(html, "text/html")
    return _Outgoing(digest.job.record_id, member.pk, message, digest.notification_ids, digest.item_count)


@dataclass
class _Outcome:
    sent: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    untried: list[int] = field(default_factory=list)
    broken: str = ""


def _deliver(outgoing: list[_Outgoing]) -> _Outcome:
    """Send over one connection. Classify each message: sent, refused by the server (certainly not sent),
    unknown (the connection broke while it was being handed over) or untried (the connection was gone)."""
    outcome = _Outcome()
    if not outgoing:
        return outcome
    delay = settings.DIGEST_SEND_DELAY_MS / 1000
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:
        logger.exception("digests: cannot reach the mail server")
        outcome.untried = [o.record_id for o in outgoing]
        outcome.broken = f"mail server unreachable: {exc}"
        return outcome
    try:
        for index, item in enumerate(outgoing):
            if delay:
                time.sleep(delay)  # DIGEST_SEND_DELAY_MS: only tests set it, to kill a worker mid-batch
            try:
                item.message.connection = connection
                item.message.send()
            except REFUSALS as exc:
                logger.warning("digest %s refused by the mail server: %s", item.record_id, exc)
                outcome.refused.append(item.record_id)
            except Exception as exc:
                logger.exception("digest %s: the mail connection broke", item.record_id)
                outcome.unknown.append(item.record_id)
                outcome.untried = [o.record_id for o in outgoing[index + 1 :]]
                outcome.broken = f"mail connection broke: {exc}"
                break
            else:
                outcome.sent.append(item.record_id)
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection must not turn sent digests into lost ones
            logger.warning("digests: closing the mail connection failed", exc_info=True)
    return outcome


def _record_outcome(outgoing: list[_Outgoing], outcome: _Outcome, report: DigestRunReport) -> None:
    by_id = {o.record_id: o for o in outgoing}
    now = timezone.now()
    if outcome.sent:
        # "uncertain" too: a slow send may outlive DIGEST_SENDING_STALE_SECONDS; the sender knows best.
        DigestRecord.objects.filter(
            pk__in=outcome.sent, status__in=[DigestStatus.SENDING, DigestStatus.UNCERTAIN]
        ).update(status=DigestStatus.SENT, sent_at=now, detail="")
        notification_ids = [n for pk in outcome.sent for n in by_id[pk].notification_ids]
        if notification_ids:
            Notification.objects.filter(pk__in=notification_ids, email_state=EmailState.DIGEST).update(
                email_state=EmailState.SENT, emailed_at=now
            )
        _advance_last_digest([by_id[pk].user_id for pk in outcome.sent])
        report.add(DigestStatus.SENT, len(outcome.sent))
    if outcome.refused:
        DigestRecord.objects.filter(pk__in=outcome.refused, status=DigestStatus.SENDING).update(
            status=DigestStatus.FAILED, detail="Refused by the mail server."
        )
        report.add(DigestStatus.FAILED, len(outcome.refused))
    if outcome.unknown:
        DigestRecord.objects.filter(pk__in=outcome.unknown, status=DigestStatus.SENDING).update(
            status=DigestStatus.UNCERTAIN, detail="The mail connection broke while this digest was handed over."
        )
        _advance_last_digest([by_id[pk].user_id for pk in outcome.unknown])
        report.add(DigestStatus.UNCERTAIN, len(outcome.unknown))
    if outcome.untried:
        DigestRecord.objects.filter(pk__in=outcome.untried, status=DigestStatus.SENDING).update(
            status=DigestStatus.PENDING, sending_at=None
        )
        report.add(DigestStatus.PENDING, len(outcome.untried))


def _advance_last_digest(user_ids) -> None:
    """``last_digest_at`` := the end of the member's latest finished digest period, in one UPDATE."""
    latest = (
        DigestRecord.objects.filter(user_id=OuterRef("user_id"), status__in=DONE)
        .order_by("-period_end")
        .values("period_end")[:1]
    )
    NotificationPreferences.objects.filter(user_id__in=list(user_ids)).update(last_digest_at=Subquery(latest))


# --- Unsubscribe --------------------------------------------------------------------------------------------
@transaction.atomic
def digest_unsubscribe(*, actor, record: DigestRecord) -> bool:
    """Turn the member's digest off from the link in one of their digests (no sign-in: the signed token is the
    proof). Records the use, so the same link never works again. Returns False if digests were off already."""
    if record.user_id != actor.pk:
        raise ValueError("the digest belongs to someone else")
    prefs, _created = NotificationPreferences.objects.select_for_update().get_or_create(user=actor)
    record_activity(actor=actor, kind=digests.UNSUBSCRIBE_ACTIVITY, target=record)
    if prefs.digest_frequency == DigestFrequency.OFF:
        return False
    prefs.digest_frequency = DigestFrequency.OFF
    prefs.full_clean()
    prefs.save(update_fields=["digest_frequency"])
    return True
