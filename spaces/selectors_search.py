"""Permission-aware full-text search over every item (issue 7).

One query finds, ranks and highlights, and it starts from ``Item.objects.visible_to(user)``: what the user may
not see is never matched, so it cannot show in a result, a snippet, a suggestion or a count.

- PostgreSQL: the stored, weighted ``search_vector`` (title A, text B; GIN index) matched with ``to_tsquery``,
  ranked by ``ts_rank``, the text's snippet cut and highlighted by ``ts_headline``. When nothing matches, each
  word found in no item is corrected to the nearest word that is (``spaces_searchword``, by edit distance, then
  how common it is) or left out when none is near, and the corrected query is searched instead ("Showing
  results for ..."); when no word is left, titles similar to the query (``pg_trgm`` word similarity) are offered.
- SQLite: the FTS5 table ``spaces_item_fts`` matched with MATCH, ranked by ``bm25()`` (title weighted 10 to 1)
  and the snippet cut and highlighted by ``snippet()``.

Both read the same parsed query: every word must occur (common English words are dropped unless nothing else
is left), "quoted words" as a phrase, -word excluded, and the last word typed matches as a prefix. Ties in
relevance go to the more recent item. Snippet highlights are marked by the database with two control characters
that ``clean_text`` never lets into the indexed text; the text is escaped first and only then are the marks
turned into ``<mark>``, so no markup from content ever reaches the page. Titles are highlighted here, word by
word, so they read exactly as written on both engines.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, Exists, F, FloatField, Func, IntegerField, Q, QuerySet, Subquery, Value
from django.db.models.functions import Substr
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from psycopg.errors import QueryCanceled

import copapp.lookups  # noqa: F401  (registers the `in_ids` lookup)
from copapp.plans import custom_plans, planner_settings, shared_plans
from spaces import permissions, search_index, selectors_content
from spaces.models import Item, ItemKind, SearchWord, Space

PAGE_SIZE = 20
# Counted exactly up to here, then "more than 300"; and past it, the 300 most recent matches are the ones ranked and
# paged through (``_best_candidates``), so every page the count offers has results. Nobody pages past 15 pages of
# search results, and counting (or ranking) every match of a common word is most of a search's time at scale.
COUNT_CAP = 300
SUGGESTION_LIMIT = 8
MAX_TERMS = 12
MAX_WORD_LENGTH = 100
PREFIX_MIN_LENGTH = 2
CORRECTED_MIN_LENGTH = 4  # shorter words are not corrected: too many words are one letter away from them
SIMILARITY_THRESHOLD = 0.5  # pg_trgm word similarity: "censis" finds "census" (0.57), unrelated words score 0
PG_CONFIG = "copapp_search"  # migration 0006: "simple" with accents removed
TITLE_WEIGHT, TEXT_WEIGHT = 10.0, 1.0  # SQLite bm25() column weights
START, STOP = "\x02", "\x03"  # highlight marks (never in indexed text: clean_text removes control characters)
SNIPPET_WORDS = 30
# Counting in table order instead of from the text index's bitmap: when the planner expects the words in at least
# this share of all items, ``COUNT_CAP`` + 1 matches lie within the first few thousand rows read; and reading never
# goes on longer than the timeout (words common apart can be rare together), after which the bitmap counts.
COMMON_SHARE = 0.05
SCAN_TIMEOUT_MS = 60
# Read in table order, a count has one plan whatever the words (a scan of the items, stopped at the cap), so the
# connection keeps it: planning the permission filters was 6 of the 14 ms a common word's count cost at the scale
# data set (bench/page_cpu.py --slow). The generic plan is made, and used, only under these settings.
_SCAN_SETTINGS = {
    "enable_bitmapscan": "off",
    "statement_timeout": str(SCAN_TIMEOUT_MS),
    "plan_cache_mode": "force_generic_plan",
}

TITLED_KINDS = (ItemKind.PAGE, ItemKind.QUESTION, ItemKind.EVENT, ItemKind.POST, ItemKind.POLL, ItemKind.FILE)
STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or should so that the this to was we what "
    "when where which who why will with".split()
)

# The words the word list holds (``spaces.search_index._SEARCH_WORD``, which PostgreSQL reads in any locale as
# at least these): as ``_fold`` gives them.
_LISTED_WORD = re.compile(r"[a-z]{3,30}")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')
_WORD = re.compile(r"[^\W_]+")


# --- The query ---------------------------------------------------------------------------------------------------
@dataclass
class ParsedQuery:
    """Words (all must match), phrases, excluded words or phrases, and whether the last word is a prefix."""

    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)
    prefix_last: bool = False

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)

    def plain(self) -> str:
        return " ".join(self.words + [w for phrase in self.phrases for w in phrase])

    # PostgreSQL tsquery text. Every term is letters and digits only, so nothing the user typed is syntax.
    def tsquery(self, *, any_word: bool = False, title_only: bool = False) -> str:
        weight = "A" if title_only else ""
        terms = []
        for n, word in enumerate(self.words):
            prefix = "*" if self.prefix_last and n == len(self.words) - 1 else ""
            terms.append(f"{word}:{prefix}{weight}" if prefix or weight else word)
        terms += ["(" + " <-> ".join(f"{w}:{weight}" if weight else w for w in p) + ")" for p in self.phrases]
        joined = (" | " if any_word else " & ").join(terms)
        if self.excluded and not any_word:
            joined = f"({joined})" + "".join(" & !(" + " <-> ".join(p) + ")" for p in self.excluded)
        return joined

    # SQLite FTS5 query text: terms in double quotes are plain strings (no operators), "term"* a prefix.
    def fts5(self, *, any_word: bool = False, title_only: bool = False) -> str:
        terms = []
        for n, word in enumerate(self.words):
            prefix = "*" if self.prefix_last and n == len(self.words) - 1 else ""
            terms.append(f'"{word}"{prefix}')
        terms += ['"' + " ".join(p) + '"' for p in self.phrases]
        joined = "(" + (" OR " if any_word else " AND ").join(terms) + ")"
        if self.excluded and not any_word:
            joined += " NOT (" + " OR ".join('"' + " ".join(p) + '"' for p in self.excluded) + ")"
        return f"title : ({joined})" if title_only else joined


def parse_query(text: str, *, prefix: bool = True, keep_stop_words: bool = False) -> ParsedQuery:
    """Read what was typed: words, "phrases", -excluded; at most MAX_TERMS terms."""
    parsed = ParsedQuery()
    for token in _TOKEN.finditer((text or "").lower()):
        quoted = token.group(2) is not None
        words = _WORD.findall(token.group(2) if quoted else token.group(4))
        if not words:
            continue
        if token.group(1) if quoted else token.group(3):
            parsed.excluded.append(words)
        elif quoted and len(words) > 1:
            parsed.phrases.append(words)
        else:
            parsed.words.extend(words)
    if not keep_stop_words:
        meaningful = [w for w in parsed.words if w not in STOP_WORDS]
        if meaningful or parsed.phrases:
            parsed.words = meaningful
    parsed.words = list(dict.fromkeys(w for w in parsed.words if len(w) <= MAX_WORD_LENGTH))[:MAX_TERMS]
    parsed.phrases = parsed.phrases[: max(0, MAX_TERMS - len(parsed.words))]
    parsed.excluded = parsed.excluded[:MAX_TERMS]
    parsed.prefix_last = prefix and bool(parsed.words) and len(parsed.words[-1]) >= PREFIX_MIN_LENGTH
    return parsed


# --- Engines ---------------------------------------------------------------------------------------------------------
class _WordSimilar(Func):
    """``text <% title``: pg_trgm word similarity above the threshold, answered from the trigram index."""

    arg_joiner = " <%% "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _to_check(parsed: ParsedQuery) -> tuple[list[str], list[str], str]:
    """The query's words as the indexes hold them; those a correction may replace (letters only, at least
    ``CORRECTED_MIN_LENGTH``); and the last word when it counts as known by beginning a known word ("" if not)."""
    words = [_fold(word) for word in parsed.words]
    checked = [word for word in words if word.isalpha() and len(word) >= CORRECTED_MIN_LENGTH]
    return words, checked, words[-1] if parsed.prefix_last else ""


def _edits(word: str) -> int:
    """How far a correction may be: one edit up to 5 letters, two from 6, three from 9, four from 12."""
    return min(4, max(1, len(word) // 3))


def _corrected(
    parsed: ParsedQuery, words: list[str], found: dict[str, tuple[bool, str | None]]
) -> tuple[ParsedQuery | None, bool]:
    """``corrected``'s answer from what the word list says of each checked word: (known, nearest known word)."""
    kept: list[str] = []
    for word in words:
        known, best = found.get(word, (True, None))
        if known or best:
            kept.append(word if known else best)
    hopeless = not kept and not parsed.phrases
    if kept == words or hopeless:
        return None, hopeless
    fixed = ParsedQuery(
        words=list(dict.fromkeys(kept)),
        phrases=parsed.phrases,
        excluded=parsed.excluded,
        prefix_last=parsed.prefix_last and bool(kept) and kept[-1] == words[-1],
    )
    return fixed, False


def _distance(word: str, other: str, limit: int) -> int:
    """Levenshtein distance between ``word`` and ``other``, or ``limit + 1`` as soon as it must exceed ``limit``
    (what PostgreSQL's ``levenshtein_less_equal`` answers)."""
    if abs(len(word) - len(other)) > limit:
        return limit + 1
    previous = list(range(len(other) + 1))
    for i, letter in enumerate(word, 1):
        current = [i]
        for j, other_letter in enumerate(other, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other_letter)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


class _TsqueryOnce(SearchQuery):
    """A ``SearchQuery`` computed once, by a subquery PostgreSQL runs before the statement's rows (an InitPlan).
    For plans made without the query's text (generic plans): the planner then cannot estimate how many rows match
    it, so use it only where the plan is chosen for it (the count by reading, ``_Postgres.count``)."""

    def as_sql(self, compiler, connection, **kwargs):
        sql, params = super().as_sql(compiler, connection, **kwargs)
        return f"(SELECT {sql})", params


class _Postgres:
    fallback = True

    def _query(self, parsed: ParsedQuery, *, once: bool = False, **kwargs) -> SearchQuery:
        """The query as PostgreSQL's ``tsquery``; ``once``: computed once per statement, never per row."""
        query_class = _TsqueryOnce if once else SearchQuery
        return query_class(parsed.tsquery(**kwargs), search_type="raw", config=PG_CONFIG)

    def match(self, qs: QuerySet, parsed: ParsedQuery, *, item: str = "", **kwargs) -> QuerySet:
        """``qs`` narrowed to matches and annotated with ``search_rank`` (higher is better)."""
        vector = f"{item}__search_vector" if item else "search_vector"
        query = self._query(parsed, **kwargs)
        return qs.filter(**{vector: query}).annotate(search_rank=SearchRank(F(vector), query))

    def rank(self, qs: QuerySet, parsed: ParsedQuery) -> QuerySet:
        """``match`` for rows known to match already (``_best_candidates``): the rank without the ``@@`` filter,
        which let the planner build bitmaps of every match of the word (and of every readable space) to intersect
        them with a few hundred ids (300 ms at 10^6 items, against a few ms for the ids alone)."""
        return qs.annotate(search_rank=SearchRank(F("search_vector"), self._query(parsed)))

    def highlight(self, qs: QuerySet, parsed: ParsedQuery) -> QuerySet:
        query = self._query(parsed)
        marks = {"config": PG_CONFIG, "start_sel": START, "stop_sel": STOP}
        return qs.annotate(
            search_snippet=SearchHeadline(
                "search_text",
                query,
                max_words=SNIPPET_WORDS,
                min_words=SNIPPET_WORDS // 2,
                max_fragments=2,
                fragment_delimiter=" … ",
                **marks,
            ),
        )

    def similar_titles(self, qs: QuerySet, text: str) -> QuerySet:
        similarity = Func(Value(text), F("title"), function="word_similarity", output_field=FloatField())
        return (
            qs.filter(_WordSimilar(Value(text), F("title")))
            .annotate(search_rank=similarity, search_snippet=Substr("search_text", 1, 240))
            .order_by("-search_rank", "-publish_at", "-pk")
        )

    def corrected(self, parsed: ParsedQuery) -> tuple[ParsedQuery | None, bool]:
        """For a query that matches nothing: ``parsed`` with each word that occurs in no item replaced by the
        nearest one that does, and a word like none left out, or None when no word changed; and whether no word at
        all is left ("hopeless": only then are titles like the query looked for).

        One query over the word list (``spaces_searchword``): a word is known as it is, or as the prefix of one
        when it is the last word typed; else the nearest word within a few edits (one up to 5 letters, two from 6,
        three from 9, four from 12), the most common first. Words with digits, and words shorter than
        ``CORRECTED_MIN_LENGTH``, are left as they are."""
        words, checked, last = _to_check(parsed)
        if not checked:
            return None, False
        search_index.search_words_collect()  # the words of items written since the last collection count too
        with connection.cursor() as cursor:
            cursor.execute(_CORRECTIONS_SQL, [last, checked])
            found = {word: (known, best) for word, known, best in cursor.fetchall()}
        return _corrected(parsed, words, found)

    def is_common(self, parsed: ParsedQuery) -> bool:
        """Whether the planner expects ``parsed`` in at least ``COMMON_SHARE`` of all items (``_expected_share``)."""
        return self._expected_share(self._parts(parsed)) >= COMMON_SHARE

    def count(self, items: QuerySet, parsed: ParsedQuery, cap: int, *, common: bool | None = None) -> int:
        """How many of ``items`` match ``parsed``, up to ``cap + 1``.

        PostgreSQL counts from a bitmap of every match of the words in the text index: 100 ms for "census" (a
        third of the items) at the scale data set, while reading the table in order until ``cap`` + 1 visible
        matches takes a few. It cannot tell the two apart (the visibility rules weigh the same on both), so it is
        asked only how many items it expects to hold the words, and a common query is counted by reading, within
        ``SCAN_TIMEOUT_MS``, with one plan kept by the connection (``_SCAN_SETTINGS``); a rare one, or one that runs
        over, from the bitmap, planned for its words, once each word is known to occur (``_each_word_occurs``)."""
        indexed = self._ids(items, parsed)
        if not (self.is_common(parsed) if common is None else common):
            return indexed.filter(self._each_word_occurs(self._parts(parsed)))[: cap + 1].count()
        # The generic plan cannot fold to_tsquery(...) of a parameter into a constant, and parsed it again for every
        # row read: 25-110 ms instead of 13-20 for "disaster statistics Fiji" (10,000 rows) at the scale data set.
        read = self._ids(items, parsed, once=True)
        try:
            with planner_settings(_SCAN_SETTINGS), shared_plans():
                return read[: cap + 1].count()
        except OperationalError as exc:
            if not isinstance(exc.__cause__, QueryCanceled):  # a lost connection is not a slow count
                raise
            return indexed[: cap + 1].count()  # ran over its time: rolled back, with the settings; from the index

    def _ids(self, items: QuerySet, parsed: ParsedQuery, *, once: bool = False) -> QuerySet:
        """The ids of ``items`` matching ``parsed``, in no order. Only the ids: the match's rank is no part of a
        count, and computing it read every counted row's vector again."""
        return items.filter(search_vector=self._query(parsed, once=once)).order_by().values("pk")

    @staticmethod
    def _parts(parsed: ParsedQuery) -> list[ParsedQuery]:
        """Each word (the last one typed as a prefix) and each phrase of ``parsed`` as a query of its own."""
        last = len(parsed.words) - 1
        parts = [
            ParsedQuery(words=[word], prefix_last=parsed.prefix_last and n == last)
            for n, word in enumerate(parsed.words)
        ]
        return parts + [ParsedQuery(phrases=[phrase]) for phrase in parsed.phrases]

    def _each_word_occurs(self, parts: list[ParsedQuery]) -> Q:
        """A condition on no row, true unless a word of the query occurs in no item. PostgreSQL tests it once,
        before reading anything else, and only as far as it needs: a word the word list holds costs one lookup
        there. A word it does not hold (misspelled, new since the last collection, or deleted by an admin) is
        looked up in the text index, so that the list only saves time and never decides a result.

        For a misspelled word it saves the count's whole time: the text index reads every item holding a word
        beginning like the last one typed before it finds that no item holds the misspelling ("recrod linkage":
        37 ms at the scale data set, against 0.1 ms for this test). Only words shaped like the list's are tested
        (``_LISTED_WORD``): a word with a digit, say, is never listed, and would be looked up in the index each
        time. A common word missing from the list (one an admin deleted) costs a count of every item holding it,
        where the count itself stops at ``cap`` + 1: accepted, as words enter the list when they are written."""
        condition = Q()
        for part in parts:
            word = _fold(part.words[0]) if part.words else ""
            if not _LISTED_WORD.fullmatch(word):
                continue
            listed = SearchWord.objects.filter(**{"word__startswith" if part.prefix_last else "word": word})
            # Counted, not tested with EXISTS: for EXISTS the planner reads the table in order, expecting a match
            # early, and read all of it (0.8 s) for a word no item holds.
            indexed = Subquery(
                self._ids(Item.objects.all(), part),
                template="(SELECT count(*) FROM (%(subquery)s) AS occurrences)",
                output_field=IntegerField(),
            )
            condition &= Q(Exists(listed)) | Q(GreaterThan(indexed, 0))
        return condition

    def _expected_share(self, parts: list[ParsedQuery]) -> float:
        """The planner's estimate (from its statistics, no row read) of the share of all items holding the query's
        least common word or phrase (``_parts``): at most the share matching the whole query, and near it for the
        words people search for together ("labour force survey"), which the planner, taking words as independent,
        would estimate twenty times too rare. Where they are not, the count by reading runs into its time limit."""
        sqls, params = [], []
        for part in parts:
            matches = self._ids(Item.objects.all(), part)
            sql, part_params = matches.query.sql_with_params()
            sqls.append(sql)
            params += part_params
        table = Item._meta.db_table
        sqls.append(f'SELECT id FROM "{table}"')  # noqa: S608  # nosec B608 # our table
        with connection.cursor() as cursor:
            # One plan for every number: each part's matches, and all rows.
            cursor.execute("EXPLAIN (FORMAT JSON) " + " UNION ALL ".join(sqls), params)
            plan = cursor.fetchone()[0]
        plans = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plans"]
        rows = plans[-1]["Plan Rows"]
        return min(plan["Plan Rows"] for plan in plans[:-1]) / rows if rows and parts else 0.0

    def set_similarity_threshold(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(SIMILARITY_THRESHOLD)]
            )


# The words of the query (text[]) and the last word typed, which counts as known when it begins a known word.
# Edit distance from fuzzystrmatch; only words of a near length are compared.
_CORRECTIONS_SQL = """
SELECT q.word,
       EXISTS (SELECT 1 FROM spaces_searchword s WHERE s.word = q.word)
       OR (q.word = %s AND EXISTS (SELECT 1 FROM spaces_searchword s WHERE s.word LIKE q.word || '%%')) AS known,
       (SELECT s.word FROM spaces_searchword s
         WHERE length(s.word) BETWEEN length(q.word) - q.edits AND length(q.word) + q.edits
           AND levenshtein_less_equal(s.word, q.word, q.edits) <= q.edits
         ORDER BY levenshtein_less_equal(s.word, q.word, q.edits), s.documents DESC, s.word
         LIMIT 1) AS best
FROM (SELECT word, LEAST(4, GREATEST(1, length(word) / 3)) AS edits
        FROM unnest(%s::text[]) AS words(word)) AS q
"""


# The full-text index's terms as a table, for this connection only (nothing to migrate, back up or keep current).
_SQLITE_VOCABULARY = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.spaces_item_fts_vocab USING fts5vocab(main, spaces_item_fts, row)"
)


class _Sqlite:
    fallback = True

    def corrected(self, parsed: ParsedQuery) -> tuple[ParsedQuery | None, bool]:
        """``_Postgres.corrected`` from the full-text index's own vocabulary (``fts5vocab``: every term with the
        number of items holding it, always current), the edit distance computed here: the embedded default's
        vocabulary is small, and only words of a near length are compared."""
        words, checked, last = _to_check(parsed)
        if not checked:
            return None, False
        found: dict[str, tuple[bool, str | None]] = {}
        with connection.cursor() as cursor:
            cursor.execute(_SQLITE_VOCABULARY)
            for word in checked:
                if word == last:  # known when it begins a known word: no near words to look for
                    cursor.execute(
                        "SELECT 1 FROM temp.spaces_item_fts_vocab WHERE term >= %s AND term < %s LIMIT 1",
                        [word, word + "\U0010ffff"],
                    )
                    if cursor.fetchone():
                        found[word] = (True, None)
                        continue
                edits = _edits(word)
                cursor.execute(
                    "SELECT term, doc FROM temp.spaces_item_fts_vocab WHERE length(term) BETWEEN %s AND %s",
                    [len(word) - edits, len(word) + edits],
                )
                terms = cursor.fetchall()
                near = [(_distance(word, term, edits), -documents, term) for term, documents in terms]
                near = [choice for choice in near if choice[0] <= edits]
                found[word] = (any(choice[0] == 0 for choice in near), min(near)[2] if near else None)
        return _corrected(parsed, words, found)

    def set_similarity_threshold(self) -> None:
        """No trigram index here: a query with no word like a known one finds no titles like it."""

    def similar_titles(self, qs: QuerySet, text: str) -> QuerySet:
        return qs.none()

    def match(self, qs: QuerySet, parsed: ParsedQuery, *, item: str = "", **kwargs) -> QuerySet:
        """The FTS5 table joined by rowid, so MATCH runs once and drives the query (a correlated subquery would
        run it again for every row)."""
        column = qs.model._meta.get_field(item).column if item else "id"
        # extra(): the ORM cannot join a table it has no model for. Only names of ours go into the SQL; what
        # the user typed is a parameter.
        return qs.extra(  # noqa: S610  # nosec B610 # our names; the query is a parameter
            tables=["spaces_item_fts"],
            where=[f'spaces_item_fts.rowid = "{qs.model._meta.db_table}"."{column}"', "spaces_item_fts MATCH %s"],
            params=[parsed.fts5(**kwargs)],
            select={"search_rank": f"-bm25(spaces_item_fts, {TITLE_WEIGHT}, {TEXT_WEIGHT})"},
        )

    def highlight(self, qs: QuerySet, parsed: ParsedQuery) -> QuerySet:
        return qs.extra(  # noqa: S610 - constant SQL  # nosec B610
            select={"search_snippet": f"snippet(spaces_item_fts, 1, char(2), char(3), '…', {SNIPPET_WORDS})"}
        )

    def rank(self, qs: QuerySet, parsed: ParsedQuery) -> QuerySet:
        return self.match(qs, parsed)  # FTS5 ranks (and highlights) only rows joined by MATCH

    def is_common(self, parsed: ParsedQuery) -> bool:
        """Never: FTS5 counts a common word's matches fast enough, so a query is always counted first."""
        return False

    def count(self, items: QuerySet, parsed: ParsedQuery, cap: int, *, common: bool | None = None) -> int:
        return self.match(items, parsed).order_by()[: cap + 1].count()


def _engine() -> _Postgres | _Sqlite:
    return _Postgres() if connection.vendor == "postgresql" else _Sqlite()


def matching(
    qs: QuerySet, text: str, *, item: str = "", any_word: bool = False, title_only: bool = False
) -> QuerySet | None:
    """``qs`` (items, or typed rows pointing at their item through the field ``item``) narrowed to what matches
    ``text``, best first: annotated with ``search_rank``, ordered by it and then recency. None when ``text``
    has no word to search for. ``any_word``: one shared word is enough (similar questions)."""
    parsed = parse_query(text, keep_stop_words=any_word)
    if not parsed:
        return None
    recency = f"-{item}__publish_at" if item else "-publish_at"
    return (
        _engine()
        .match(qs, parsed, item=item, any_word=any_word, title_only=title_only)
        .order_by("-search_rank", recency, "-pk")
    )


# --- Highlight marks to safe HTML --------------------------------------------------------------------------------
def marked_html(text: str | None) -> SafeString:
    """Escape ``text``, then turn the database's highlight marks into ``<mark>``, always balanced."""
    out: list[str] = []
    is_open = False
    for part in re.split(f"([{START}{STOP}])", text or ""):
        if part == START:
            if not is_open:
                out.append("<mark>")
                is_open = True
        elif part == STOP:
            if is_open:
                out.append("</mark>")
                is_open = False
        else:
            out.append(escape(part))
    if is_open:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of content above went through escape()  # nosec B308, B703


def _fold(word: str) -> str:
    """A word as both indexes compare it: lower case, accents removed."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.casefold()) if not unicodedata.combining(c))


def highlight_title(title: str, parsed: ParsedQuery) -> SafeString:
    """``title`` escaped, with the words of the query marked (the last one as a prefix). Done here rather than
    by the database, so that a title reads exactly as written on both engines."""
    terms = {_fold(w) for w in parsed.words} | {_fold(w) for phrase in parsed.phrases for w in phrase}
    prefix = _fold(parsed.words[-1]) if parsed.prefix_last else None
    out: list[str] = []
    end = 0
    for word in _WORD.finditer(title or ""):
        out.append(escape(title[end : word.start()]))
        folded = _fold(word.group())
        if folded in terms or (prefix and folded.startswith(prefix)):
            out.append(f"<mark>{escape(word.group())}</mark>")
        else:
            out.append(escape(word.group()))
        end = word.end()
    out.append(escape((title or "")[end:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece of the title above went through escape()  # nosec B308, B703


# --- The search page -------------------------------------------------------------------------------------------------
@dataclass
class SearchResult:
    item: Item
    title: SafeString
    snippet: SafeString
    url: str
    space: Space
    kind: str
    date: datetime


@dataclass
class SearchResults:
    results: list[SearchResult]
    total: int
    page: PaginatorPage | None
    similar_titles: bool = False  # nothing matched; these are titles like the query (misspellings)
    corrected: str = ""  # nothing matched what was typed; these results are for this corrected query
    more: bool = False  # more than ``total`` (``COUNT_CAP``) match; the most recent ``total`` are ranked and paged


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(
    user, *, community=None, space=None, kinds=None, author=None, date_from=None, date_to=None, own_rules=False
) -> QuerySet[Item]:
    """What the user may see, with the search's filters. ``own_rules``: by the items' own rules only, for choosing
    candidates (``_best_candidates``) that a full filter checks again."""
    items = Item.objects.filter(permissions.own_rules_q(user)) if own_rules else Item.objects.visible_to(user)
    if community is not None:
        items = items.filter(space__community=community)
    if space is not None:
        items = items.filter(space=space)
    kinds = [k for k in kinds or () if k in ItemKind.values]
    if kinds:
        items = items.filter(kind__in=kinds)
    if isinstance(author, str):
        items = items.filter(author__username__iexact=author)
    elif author is not None:
        items = items.filter(author=author)
    if date_from is not None:
        items = items.filter(publish_at__gte=_day_start(date_from))
    if date_to is not None:
        items = items.filter(publish_at__lt=_day_start(date_to + timedelta(days=1)))
    return items


def _result(item: Item, parsed: ParsedQuery) -> SearchResult:
    label = selectors_content.item_label(item)
    own_title = item.kind not in (ItemKind.COMMENT, ItemKind.ANSWER) and item.title
    title = highlight_title(item.title, parsed) if own_title else escape(label)
    return SearchResult(
        item=item,
        title=title,
        snippet=marked_html(item.search_snippet),
        url=selectors_content.item_url(item),
        space=item.space,
        kind=item.get_kind_display(),
        date=item.publish_at,
    )


def _best_candidates(engine, items: QuerySet[Item], parsed: ParsedQuery, limit: int | None = None) -> list[int]:
    """When more than ``COUNT_CAP`` items match, only the ``COUNT_CAP`` most recent matches are ranked and paged.

    Ranking (and reading the stored vector of) every one of 150,000 matches of "census" took seconds. Among the
    matches of a common word recency is what a reader wants, and within these the title matches still rank first
    (weight A); filters (space, type, dates) reach further back. ``items`` is narrowed by the item's own rules only
    (``own_rules_q``): the search's page query checks the context of these few hundred in full, where checking it
    for every row walked to find them cost three to four times as much. Read as a short id list: as a subquery,
    the planner cannot tell it holds a few hundred rows and scans the whole item table to join it."""
    recent = engine.match(items, parsed).order_by("-publish_at", "-pk").values_list("pk", flat=True)
    return list(recent[: limit or COUNT_CAP])


def _ranked(engine, items: QuerySet[Item], ids: list[int], parsed: ParsedQuery) -> list[int]:
    """Which of the items ``ids`` (known to match ``parsed``) are in ``items``, best first: narrow rows, ranked by
    the database; every one of them, as there are at most ``COUNT_CAP`` + 1. Selected by an id list, so one plan
    fits any words."""
    ranked = engine.rank(items.filter(pk__in_ids=ids), parsed).order_by("-search_rank", "-publish_at", "-pk")
    with shared_plans():
        return list(ranked.values_list("pk", flat=True))


def _from_recent(engine, items: QuerySet[Item], own: QuerySet[Item], parsed: ParsedQuery) -> tuple[int | None, list]:
    """A common query's count and ranked results from its most recent matches by the items' own rules (``own``),
    ranked where the reader may see them, without counting first: when more than the cap of them are visible, the
    query has more than the cap, and when there are no more matches than these, the visible ones among them are all
    there are. Only when too few of a full set are visible (answers whose question is hidden, say) is the count
    still to be taken, and the count is None. Past the cap, the cap's most recent visible matches are the ones
    ranked, as ``_best_candidates`` does.

    A tenth more candidates than the cap are read, as some of them are not for this reader: at the scale data set
    299 of the 301 newest matches of "census" were visible to a community admin. For "census" this saves the
    count's query, which read the table in order until 301 visible matches (7 ms of the database's time and 1.5 of
    building its permission filter), for about 1 ms more of ranking."""
    limit = COUNT_CAP + 1 + COUNT_CAP // 10
    candidates = _best_candidates(engine, own, parsed, limit)
    ranked = _ranked(engine, items, candidates, parsed)
    if len(ranked) <= COUNT_CAP:
        return (len(ranked) if len(candidates) < limit else None), ranked
    visible = set(ranked)
    newest = set([pk for pk in candidates if pk in visible][:COUNT_CAP])
    return len(ranked), [pk for pk in ranked if pk in newest]


@custom_plans()  # how common the words are decides each plan (copapp.plans)
def search(
    user,
    query: str,
    *,
    community=None,
    space=None,
    kinds=None,
    author=None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int | str = 1,
    per_page: int = PAGE_SIZE,
) -> SearchResults:
    """The items ``user`` may see that match ``query``, best first, one page of them, with the total.

    Filters: ``community``, ``space``, ``kinds`` (ItemKind values), ``author`` (a user or a username), ``date_from`` and
    ``date_to`` (inclusive days, on when the item appeared). The count (exact up to ``COUNT_CAP``, then ``more``),
    the page's ids, and the page's rows (with their highlights, links and spaces joined in). On PostgreSQL a common
    query is ranked among its most recent matches first, which gives the count too (``_from_recent``); when nothing
    matches, titles similar to the query are returned instead (``similar_titles``), in a few more queries.
    """
    parsed = parse_query(query)
    if not parsed:
        return SearchResults(results=[], total=0, page=None)
    engine = _engine()
    filters = {
        "community": community,
        "space": space,
        "kinds": kinds,
        "author": author,
        "date_from": date_from,
        "date_to": date_to,
    }
    items = _filtered(user, **filters)
    matched = engine.match(items, parsed)
    # Counted up to the cap: a common word matches tens of thousands of items, and counting (or ranking) all of them
    # to print "23,418 results" is most of a search's time. A count is taken in no order, so that it stops at the
    # cap (``engine.count``). Asked newest first, PostgreSQL walked the publication index instead (60 ms for "census"),
    # but only where it guessed the matches common: it guesses words that are common together ("small area
    # estimation") rare, and then checked every match before sorting them (1.4 s).
    common = engine.is_common(parsed)
    counted, ranked = None, None  # ranked: every result's id, best first, once known
    if common:
        counted, ranked = _from_recent(engine, items, _filtered(user, **filters, own_rules=True), parsed)
    if counted is None:
        counted = engine.count(items, parsed, COUNT_CAP, common=common)
        if counted <= COUNT_CAP:
            ranked = None  # older matches than the candidates are visible too: all of them are ranked
    corrected, hopeless = "", True
    if not counted and engine.fallback:
        better, hopeless = engine.corrected(parsed)
        if better is not None:
            counted = engine.count(items, better, COUNT_CAP)
            if counted:
                parsed, matched, corrected, ranked = better, engine.match(items, better), better.plain(), None
    # Titles like the query are looked for only when no word of it is like a known word: when known words never
    # meet, similar titles are noise, and finding them walked most of the trigram index (2 s at 10^6 items).
    if counted or not engine.fallback or not hopeless:
        if counted > COUNT_CAP and ranked is None:
            candidates = _best_candidates(engine, _filtered(user, **filters, own_rules=True), parsed)
            ranked = _ranked(engine, items, candidates, parsed)
        if ranked is not None:
            paginator = Paginator(ranked, per_page)
        else:
            # The page's ids first, ranked on narrow rows; then those rows with their highlights and what their
            # links need. In one query, the database sorted hundreds of rows carrying every joined body (23 kB each).
            ordered = matched.order_by("-search_rank", "-publish_at", "-pk").values_list("pk", flat=True)
            paginator = Paginator(ordered, per_page)
            paginator.count = counted  # a cached_property: set, it is never computed
        page_obj = paginator.get_page(page)
        ids = list(page_obj.object_list)
        shown = engine.highlight(engine.rank(Item.objects.filter(pk__in_ids=ids), parsed), parsed)
        by_id = {}
        if ids:
            with shared_plans():
                # No ORDER BY (the ids give the order): with one, Django hashes each of the ~300 joined columns
                # to look for the sort key among them (15.5 -> 13.3 ms of CPU per search on the demo data).
                rows = selectors_content.with_links(shown).order_by()
                by_id = {item.pk: item for item in rows}
        results = [_result(by_id[pk], parsed) for pk in ids if pk in by_id]
        return SearchResults(
            results=results,
            total=paginator.count,
            page=page_obj,
            more=counted > COUNT_CAP,
            corrected=corrected,
        )
    with transaction.atomic():  # the threshold is set for this transaction only
        engine.set_similarity_threshold()
        similar = engine.similar_titles(items.filter(kind__in=TITLED_KINDS), parsed.plain())
        paginator = Paginator(selectors_content.with_links(similar), per_page)
        page_obj = paginator.get_page(page)
        results = [_result(item, parsed) for item in page_obj.object_list]
    return SearchResults(results=results, total=paginator.count, page=page_obj, similar_titles=bool(results))


@dataclass
class Suggestion:
    title: str
    url: str
    kind: str
    space: Space


@custom_plans()
def title_suggestions(user, query: str, *, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Up to ``limit`` titles the user may see that match what is typed so far (the last word as a prefix),
    best first. One query."""
    items = matching(Item.objects.visible_to(user).filter(kind__in=TITLED_KINDS), query, title_only=True)
    if items is None:
        return []
    rows = selectors_content.with_links(items)[:limit]
    return [
        Suggestion(
            title=selectors_content.item_label(item),
            url=selectors_content.item_url(item),
            kind=item.get_kind_display(),
            space=item.space,
        )
        for item in rows
    ]
