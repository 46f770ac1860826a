from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchWord(models.Model):
    """A word that occurs in some item's title or text: what a misspelled search word is corrected to.

    PostgreSQL only. A trigger on ``spaces_item`` queues the new words of every item written (``SearchWordQueue``),
    which ``spaces.search_index.search_words_collect`` adds here; ``search_words_rebuild`` recounts them all
    (``search_reindex``, ``seed_scale``). Words are
    never shown for themselves: a correction is offered only when its search finds items the reader may see, so a
    word from a closed space cannot leak through it.
    """

    word = models.CharField(_("word"), max_length=30, primary_key=True)
    documents = models.PositiveIntegerField(_("items containing it"), default=1)

    class Meta:
        verbose_name = _("search word")
        verbose_name_plural = _("search words")

    def __str__(self) -> str:
        return self.word


class SearchWordQueue(models.Model):
    """Words of items written that the word list did not hold yet, waiting to be added to it.

    The trigger (migration 0012) appends here instead of inserting into ``SearchWord`` itself: two transactions
    that each wrote several items bringing the same new words, in different orders, waited on each other's
    uncommitted words and deadlocked, failing a save. Appending never waits on anyone. Collected (one statement,
    in word order) before a misspelled search is corrected, and every few minutes by a periodic task."""

    word = models.CharField(_("word"), max_length=30)

    class Meta:
        verbose_name = _("queued search word")
        verbose_name_plural = _("queued search words")

    def __str__(self) -> str:
        return self.word
