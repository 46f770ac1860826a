from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchWord(models.Model):
    """A word that occurs in some item's title or text: what a misspelled search word is corrected to.

    PostgreSQL only. A trigger on ``spaces_item`` adds the words of every item written (migration 0011);
    ``spaces.search_index.search_words_rebuild`` recounts them all (``search_reindex``, ``seed_scale``). Words are
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
