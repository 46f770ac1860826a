"""Digests, the write side: the transactional outbox (``DigestRecord``), sending, and unsubscribing.

Never twice, never silently lost (issue 5, item 8):

1. **Record before anything else.** Each due member gets a ``pending`` record for (member, frequency, period
   end), inserted in bulk; the unique constraint makes a second insert for the same period a no-op, so two
   runs (two workers, a retried task, beat plus cron) enqueue each member once.
2. **Claim.** A batch of pending records is locked with ``SELECT ... FOR UPDATE SKIP LOCKED``: a concurrent
   run skips them and takes the next batch. The digests are composed while the lock is held; empty ones become
   ``skipped_empty``, already-seen ones ``skipped_seen``, and the rest stay ``pending`` with a claim stamp in
   ``sending_at`` (a lease: other runs leave a claimed record alone until ``DIGEST_SENDING_STALE_SECONDS`` have
   passed). That transaction commits before the first byte goes to the mail server.
3. **Send one by one, recording each.** Each digest is rendered just before its turn (one at a time: a big
   batch's messages are never all in memory at once; one that cannot be rendered becomes ``failed`` and is not
   tried again). Right before its SMTP hand-over a record becomes ``sending`` (its own
   ``sending_at``, and only if its claim is still ours: a record reclaimed by another run is left to it), and
   right after it ``sent`` (or ``failed`` when the server refused it). Each is one UPDATE of one row by its
   primary key, committed at once, so at any moment at most one record of a batch is ``sending``. The batch's
   notifications and the members' ``last_digest_at`` are then written in one more transaction. A message never
   tried (the connection broke first) loses its claim and is sent by the next run.
   On PostgreSQL these per-message commits do not wait for the disk (``synchronous_commit = off`` for the
   sending loop only): waiting would cost a disk flush, several milliseconds, twice per message, more than
   composing and rendering the digest. An asynchronous commit is visible to every other session at once and
   survives the worker's death like any other (step 4 holds as it is). Only a crash of the database server
   itself (not a clean restart, which flushes everything) can lose the marks of its last fraction of a second
   (PostgreSQL flushes them within ``3 * wal_writer_delay``, 0.6 s by default): a lost ``sent`` leaves the
   record ``sending``, so it becomes ``uncertain``; a lost ``sending`` leaves it ``pending``, so the next run
   sends those few digests again. That is the price of the speed, paid only when the database crashes
   mid-batch. Everything before (the claim) and after (the batch's outcome) is committed as usual, which also
   flushes the marks before it.
4. **Crash.** A crash before step 2 commits leaves plain ``pending`` records. A crash during step 3 leaves the
   records already handed over ``sent``, the records not yet started ``pending`` under a claim that expires
   (the next run after ``DIGEST_SENDING_STALE_SECONDS`` sends them, once), and exactly one record ``sending``:
   nobody knows whether the mail server got it, so a later run marks it ``uncertain`` (logged, shown in the
   admin and on the preview page) and never resends it. That run also catches up ``last_digest_at`` for members
   whose digest was sent just before the crash (their digest's notifications stay due and come in the next one).

Claiming, composing and recording cost the same number of queries whether a batch holds 10 members or 500;
sending adds exactly two single-row UPDATEs per message (the price of knowing which one was in flight).
"""

from __future__ import annotations

import logging
import smtplib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Value, When
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
    digest_records_catch_up_sent(now=now)
    report.enqueued = digests_enqueue_due(now=now, batch_size=batch_size)
    # One of each for the whole run: what many digests share is rendered once, changed pages are looked up once.
    renderer, pages = digests.DigestRenderer(), digests.PageChanges()
    while True:
        batch = digests_send_batch(
            period_end=report.period_end, batch_size=batch_size, report=report, renderer=renderer, pages=pages
        )
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


def digest_records_catch_up_sent(*, now: datetime) -> int:
    """Members whose digest was recorded ``sent`` by a run that stopped before it wrote their ``last_digest_at``
    get it now (recent periods only: an older one was caught up by an earlier run). Returns how many."""
    recent = now - timedelta(days=8)
    behind = DigestRecord.objects.filter(status=DigestStatus.SENT, period_end__gt=recent).filter(
        Q(user__notification_prefs__last_digest_at__isnull=True)
        | Q(user__notification_prefs__last_digest_at__lt=F("period_end"))
    )
    user_ids = set(behind.values_list("user_id", flat=True))
    if user_ids:
        _advance_last_digest(user_ids)
    return len(user_ids)


def _claimable(now: datetime) -> Q:
    """Pending and not claimed by a run that may still be working on it (a claim older than the stale delay
    is a dead run's: its records were never handed to the mail server)."""
    stale = now - timedelta(seconds=settings.DIGEST_SENDING_STALE_SECONDS)
    return Q(status=DigestStatus.PENDING) & (Q(sending_at__isnull=True) | Q(sending_at__lt=stale))


def digests_send_batch(
    *,
    period_end: datetime,
    batch_size: int | None = None,
    report: DigestRunReport,
    renderer: digests.DigestRenderer | None = None,
    pages: digests.PageChanges | None = None,
) -> int:
    """Claim, compose and send one batch of pending records (periods ending at or before ``period_end``).
    Returns the number of records claimed (0: nothing left for this run)."""
    with transaction.atomic():
        claimed_at = timezone.now()
        records = list(
            DigestRecord.objects.select_for_update(skip_locked=True)
            .filter(_claimable(claimed_at), period_end__lte=period_end)
            .order_by("period_end", "pk")[: _batch_size(batch_size)]
        )
        if not records:
            return 0
        outgoing = _compose_and_claim(records, report, claimed_at, pages or digests.PageChanges())
    # Committed: every digest below is claimed; each is rendered, then becomes "sending" just before the mail
    # server hears of it (rendering one at a time keeps a big batch's messages out of memory).
    outcome = _deliver(outgoing, renderer or digests.DigestRenderer())
    with transaction.atomic():
        _record_outcome(outgoing, outcome, report)
    if outcome.broken:
        report.stopped = outcome.broken
    return len(records)


@dataclass
class _Outgoing:
    record_id: int
    user_id: int
    digest: digests.Digest
    notification_ids: list[int]
    item_count: int
    claimed_at: datetime | None = None


def _compose_and_claim(
    records: list[DigestRecord], report: DigestRunReport, claimed_at: datetime, pages: digests.PageChanges
) -> list[_Outgoing]:
    members = digests.load_members(record.user_id for record in records)
    jobs, gone = [], []
    for record in records:
        member = members.get(record.user_id)
        prefs = digests.prefs_of(member) if member is not None else None
        if member is None or not member.is_active or member.deleted_at or prefs.digest_frequency != record.frequency:
            gone.append(record.pk)
        else:
            jobs.append(digests.DigestJob(member, record.frequency, record.period_start, record.period_end, record.pk))
    composed = digests.compose_digests(jobs, pages=pages)
    by_status: dict[str, list[digests.Digest]] = {}
    outgoing: list[_Outgoing] = []
    for digest in composed:
        status = digests.outcome_of(digest)
        if status != DigestStatus.SENDING:
            by_status.setdefault(status, []).append(digest)
            continue
        member = digest.member
        outgoing.append(_Outgoing(digest.job.record_id, member.pk, digest, digest.notification_ids, digest.item_count))
    for status, group in by_status.items():
        counts = {d.job.record_id: d.item_count for d in group}
        _transition(counts, DigestStatus.PENDING, status)
        report.add(status, len(group))
    if gone:
        DigestRecord.objects.filter(pk__in=gone, status=DigestStatus.PENDING).update(
            status=DigestStatus.FAILED,
            detail="Not sent: the member left, turned digests off or changed frequency.",
        )
        report.add(DigestStatus.FAILED, len(gone))
    skipped = [d.member.pk for group in by_status.values() for d in group]
    if skipped:
        _advance_last_digest(skipped)
    if outgoing:
        # The claim; each record's item count is written with its "sending" mark.
        DigestRecord.objects.filter(pk__in=[o.record_id for o in outgoing], status=DigestStatus.PENDING).update(
            sending_at=claimed_at
        )
        for item in outgoing:
            item.claimed_at = claimed_at
    return outgoing


def _transition(counts: dict[int, int], old: str, new: str, **fields) -> int:
    """Move records from ``old`` to ``new`` in one UPDATE, writing each record's own item count."""
    if not counts:
        return 0
    if len(set(counts.values())) == 1:  # all the same (every empty digest counts 0): no CASE of a branch each
        item_count = Value(next(iter(counts.values())))
    else:
        whens = [When(pk=pk, then=Value(n)) for pk, n in counts.items()]
        item_count = Case(*whens, default=Value(0), output_field=IntegerField())
    return DigestRecord.objects.filter(pk__in=list(counts), status=old).update(
        status=new, item_count=item_count, **fields
    )


def _message(digest: digests.Digest, renderer: digests.DigestRenderer) -> EmailMultiAlternatives:
    member = digest.member
    unsubscribe = digests.unsubscribe_url(member.pk, digest.job.record_id)
    subject, text, html = digests.render_digest(digest, unsubscribe=unsubscribe, renderer=renderer)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [member.email], headers=digests.unsubscribe_headers(unsubscribe)
    )
    message.attach_alternative(html, "text/html")
    return message


@dataclass
class _Outcome:
    sent: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    unrendered: list[int] = field(default_factory=list)  # a template error: failed, never tried again
    unknown: list[int] = field(default_factory=list)
    untried: list[_Outgoing] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)  # reclaimed by another run meanwhile: theirs to send
    broken: str = ""


def _start(item: _Outgoing) -> bool:
    """Our claimed record becomes ``sending`` (committed at once), unless another run reclaimed it meanwhile."""
    return _update_record(
        item.record_id,
        {"status": DigestStatus.SENDING, "sending_at": timezone.now(), "item_count": item.item_count},
        statuses=[DigestStatus.PENDING],
        claimed_at=item.claimed_at,
    )


def _finish(item: _Outgoing, *, sent: bool) -> None:
    """Right after the hand-over: ``sent``, or ``failed`` when the server refused it (committed at once).
    From ``uncertain`` too: a slow send may outlive DIGEST_SENDING_STALE_SECONDS; the sender knows best."""
    if sent:
        values = {"status": DigestStatus.SENT, "sent_at": timezone.now(), "detail": ""}
    else:
        values = {"status": DigestStatus.FAILED, "detail": "Refused by the mail server."}
    _update_record(item.record_id, values, statuses=[DigestStatus.SENDING, DigestStatus.UNCERTAIN])


def _update_record(record_id: int, values: dict, *, statuses: list[str], claimed_at: datetime | None = None) -> bool:
    """``UPDATE`` one record by its primary key if its status is one of ``statuses`` (and its claim is
    ``claimed_at``): the per-message marks. Plain SQL from the model's own columns: this runs twice per message,
    and putting the statement together through the ORM costs more than running it."""
    meta, quote = DigestRecord._meta, connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    def value(name: str, given):
        return meta.get_field(name).get_db_prep_save(given, connection)

    where = {"id": [record_id], "status": statuses, **({"sending_at": [claimed_at]} if claimed_at else {})}
    # Only the model's own table and column names go into the text; every value is a parameter.
    sql = "UPDATE {} SET {} WHERE {}".format(  # noqa: S608  # nosec B608 # model names only
        quote(meta.db_table),
        ", ".join(f"{column(name)} = %s" for name in values),
        " AND ".join(f"{column(name)} IN ({', '.join(['%s'] * len(allowed))})" for name, allowed in where.items()),
    )
    params = [value(name, given) for name, given in values.items()]
    params += [value(name, given) for name, allowed in where.items() for given in allowed]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _deliver(outgoing: list[_Outgoing], renderer: digests.DigestRenderer) -> _Outcome:
    """Render and send over one connection, recording each message's state around its own hand-over (module
    docstring, step 3). Classify each message: sent, refused by the server (certainly not sent), unrendered,
    unknown (the connection broke while it was being handed over), untried (the connection was gone) or taken
    (by another run)."""
    outcome = _Outcome()
    if not outgoing:
        return outcome
    delay = settings.DIGEST_SEND_DELAY_MS / 1000
    mail = get_connection()
    try:
        mail.open()
    except Exception as exc:
        logger.exception("digests: cannot reach the mail server")
        outcome.untried = list(outgoing)
        outcome.broken = f"mail server unreachable: {exc}"
        return outcome
    try:
        with _marks_committed_without_waiting():
            _hand_over(outgoing, renderer, mail, outcome, delay)
    finally:
        try:
            mail.close()
        except Exception:  # closing a broken connection must not turn sent digests into lost ones
            logger.warning("digests: closing the mail connection failed", exc_info=True)
    return outcome


@contextmanager
def _marks_committed_without_waiting():
    """PostgreSQL: the per-message marks are committed without waiting for the disk (module docstring, step 3).
    A session setting, for this loop only; the connection gets its default back afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:  # the connection broke: it is not reused, and its settings go with it
            logger.warning("digests: could not reset synchronous_commit", exc_info=True)


def _hand_over(
    outgoing: list[_Outgoing], renderer: digests.DigestRenderer, mail, outcome: _Outcome, delay: float
) -> None:
    """Each message between its two marks: ``sending`` just before the hand-over, ``sent`` (or ``failed``) after."""
    for index, item in enumerate(outgoing):
        try:
            message = _message(item.digest, renderer)
        except Exception:  # a template error must not hold the whole batch back, nor be retried forever
            logger.exception("digest %s could not be rendered", item.record_id)
            _update_record(
                item.record_id,
                {"status": DigestStatus.FAILED, "detail": "Not sent: it could not be rendered."},
                statuses=[DigestStatus.PENDING],
                claimed_at=item.claimed_at,
            )
            outcome.unrendered.append(item.record_id)
            continue
        if not _start(item):
            logger.info("digest %s was reclaimed by another run; left to it", item.record_id)
            outcome.taken.append(item.record_id)
            continue
        if delay:
            time.sleep(delay)  # DIGEST_SEND_DELAY_MS: only tests set it, to kill a worker mid-hand-over
        try:
            message.connection = mail
            message.send()
        except REFUSALS as exc:
            logger.warning("digest %s refused by the mail server: %s", item.record_id, exc)
            _finish(item, sent=False)
            outcome.refused.append(item.record_id)
        except Exception as exc:
            logger.exception("digest %s: the mail connection broke", item.record_id)
            outcome.unknown.append(item.record_id)
            outcome.untried = list(outgoing[index + 1 :])
            outcome.broken = f"mail connection broke: {exc}"
            break
        else:
            _finish(item, sent=True)
            outcome.sent.append(item.record_id)


def _record_outcome(outgoing: list[_Outgoing], outcome: _Outcome, report: DigestRunReport) -> None:
    """The batch's part of the outcome (each record's own state was written around its hand-over)."""
    by_id = {o.record_id: o for o in outgoing}
    now = timezone.now()
    if outcome.sent:
        notification_ids = [n for pk in outcome.sent for n in by_id[pk].notification_ids]
        if notification_ids:
            Notification.objects.filter(pk__in=notification_ids, email_state=EmailState.DIGEST).update(
                email_state=EmailState.SENT, emailed_at=now
            )
        _advance_last_digest([by_id[pk].user_id for pk in outcome.sent])
        report.add(DigestStatus.SENT, len(outcome.sent))
    report.add(DigestStatus.FAILED, len(outcome.refused) + len(outcome.unrendered))
    if outcome.unknown:
        DigestRecord.objects.filter(pk__in=outcome.unknown, status=DigestStatus.SENDING).update(
            status=DigestStatus.UNCERTAIN, detail="The mail connection broke while this digest was handed over."
        )
        _advance_last_digest([by_id[pk].user_id for pk in outcome.unknown])
        report.add(DigestStatus.UNCERTAIN, len(outcome.unknown))
    if outcome.untried:
        # Never handed over: give up the claim, so the next run sends them at once.
        claimed_at = outcome.untried[0].claimed_at
        DigestRecord.objects.filter(
            pk__in=[o.record_id for o in outcome.untried], status=DigestStatus.PENDING, sending_at=claimed_at
        ).update(sending_at=None)
        report.add(DigestStatus.PENDING, len(outcome.untried))


def _advance_last_digest(user_ids) -> None:
    """``last_digest_at`` := the end of the member's latest finished digest period, in one UPDATE."""
    # "Not unfinished" rather than "finished": no index can answer it, so the database reads each member's few
    # records by member instead of, on stale statistics, every finished record of the site by status.
    unfinished = [status for status in DigestStatus.values if status not in DONE]
    latest = (
        DigestRecord.objects.filter(user_id=OuterRef("user_id"))
        .exclude(status__in=unfinished)
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
