"""Text for ``seed_scale``: titles, tags and Markdown bodies that read like a statistics community's work.

Rendering Markdown is the costly part of saving content (markdown-it, then nh3). A body here is a few
paragraphs drawn from a pool, and each paragraph of the pool is rendered once: Markdown renders block by block,
so the HTML of a body is the HTML of its paragraphs joined (``tests/test_seed_scale.py`` checks this against
``render_markdown`` on a sample). The search text of each paragraph is worked out once in the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.utils.text import slugify

from copapp.markdown import render_markdown

TOPICS = [
    "census",
    "record linkage",
    "administrative data",
    "business register",
    "household survey",
    "sampling frame",
    "disaster statistics",
    "SDG indicators",
    "national accounts",
    "price index",
    "labour force survey",
    "civil registration",
    "vital statistics",
    "geospatial data",
    "small area estimation",
    "data privacy",
    "metadata",
    "data dissemination",
    "big data",
    "mobile phone data",
    "satellite imagery",
    "agricultural census",
    "population projections",
    "gender statistics",
    "environment accounts",
    "migration statistics",
    "informal sector",
    "trade statistics",
    "CAPI",
    "data quality",
    "questionnaire design",
    "nonresponse",
    "imputation",
    "seasonal adjustment",
    "data warehouse",
    "open data",
    "statistical law",
    "poverty measurement",
    "energy statistics",
    "tourism statistics",
]
ASPECTS = [
    "lessons learned",
    "a practical guide",
    "common pitfalls",
    "the road map",
    "quality assurance",
    "costs and benefits",
    "training material",
    "methodology notes",
    "pilot results",
    "terms of reference",
    "a country case study",
    "meeting notes",
    "draft guidelines",
    "frequently asked questions",
    "tools and scripts",
    "the evaluation",
]
PLACES = [
    "Fiji",
    "Samoa",
    "Indonesia",
    "the Philippines",
    "Viet Nam",
    "Thailand",
    "Nepal",
    "Bangladesh",
    "Mongolia",
    "Kazakhstan",
    "Sri Lanka",
    "Cambodia",
    "Lao PDR",
    "Papua New Guinea",
    "Bhutan",
    "Pakistan",
    "India",
    "Malaysia",
    "Tonga",
    "Vanuatu",
    "the Pacific",
    "South-East Asia",
    "Central Asia",
]
VERBS = [
    "improves",
    "depends on",
    "changes",
    "strengthens",
    "complicates",
    "replaces",
    "feeds",
    "validates",
    "documents",
    "supports",
]
NOUNS = [
    "coverage",
    "response rates",
    "timeliness",
    "the processing pipeline",
    "field operations",
    "the tabulation plan",
    "confidentiality rules",
    "the master sample",
    "the linkage keys",
    "edit checks",
    "the release calendar",
    "user consultation",
    "enumeration areas",
    "the classification",
    "the weighting scheme",
    "data sharing agreements",
]
QUESTION_OPENERS = [
    "How do you handle",
    "What is the best way to measure",
    "Has anyone automated",
    "Which software do you use for",
    "How often do you revise",
    "What sample size is enough for",
    "Who owns",
    "How do you explain",
    "Is there a standard for",
    "How did you budget for",
]
EVENT_KINDS = ["Webinar", "Workshop", "Expert group meeting", "Training", "Regional seminar", "Peer review"]
ANSWER_OPENERS = [
    "We had the same problem.",
    "In our office we settled on this:",
    "Short answer: it depends on the frame.",
    "The manual has a chapter on this.",
    "We tried two approaches.",
    "This worked for us:",
]


def _sentence(rng: random.Random) -> str:
    topic = rng.choice(TOPICS)
    return (
        f"{topic[0].upper()}{topic[1:]} in {rng.choice(PLACES)} {rng.choice(VERBS)} "
        f"{rng.choice(NOUNS)}, and {rng.choice(NOUNS)} {rng.choice(VERBS)} {rng.choice(TOPICS)}."
    )


def _paragraph_source(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.12:
        return f"## {rng.choice(ASPECTS).capitalize()} on {rng.choice(TOPICS)}"
    if shape < 0.25:
        return "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 4)))
    if shape < 0.3:
        return f"> {_sentence(rng)}"
    words = " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
    if rng.random() < 0.3:
        topic = rng.choice(TOPICS)
        words = words.replace(topic, f"**{topic}**", 1)
    return words


def _plain(source: str) -> str:
    """The search text of a Markdown fragment, as ``spaces.search_index`` computes it."""
    from spaces.search_index import markdown_to_text

    return markdown_to_text(source)


@dataclass
class Paragraphs:
    """A pool of Markdown paragraphs with their HTML (plain and with bare links) and search text."""

    sources: list[str]
    html: list[str]
    text: list[str]

    @classmethod
    def build(cls, rng: random.Random, size: int) -> Paragraphs:
        sources = [_paragraph_source(rng) for _ in range(size)]
        return cls(sources=sources, html=[render_markdown(s) for s in sources], text=[_plain(s) for s in sources])

    def pick(self, rng: random.Random, count: int) -> list[int]:
        """``count`` paragraph indexes; never two lists in a row (a blank line between would merge them)."""
        picks: list[int] = []
        size = len(self.sources)
        while len(picks) < count:
            index = rng.randrange(size)
            if picks and self.sources[index].startswith("- ") and self.sources[picks[-1]].startswith("- "):
                continue
            picks.append(index)
        return picks

    def body(self, picks: list[int]) -> tuple[str, str, str]:
        """(Markdown, HTML, search text) of the paragraphs ``picks`` in that order."""
        return (
            "\n\n".join(self.sources[i] for i in picks),
            "".join(self.html[i] for i in picks),
            " ".join(self.text[i] for i in picks if self.text[i]),
        )


def title_for(rng: random.Random) -> str:
    return f"{rng.choice(TOPICS).capitalize()}: {rng.choice(ASPECTS)} ({rng.choice(PLACES)})"


def question_title_for(rng: random.Random) -> str:
    return f"{rng.choice(QUESTION_OPENERS)} {rng.choice(NOUNS)} in a {rng.choice(TOPICS)}?"


def event_title_for(rng: random.Random) -> str:
    return f"{rng.choice(EVENT_KINDS)} on {rng.choice(TOPICS)} in {rng.choice(PLACES)}"


def answer_opener(rng: random.Random) -> str:
    return rng.choice(ANSWER_OPENERS)


class Slugs:
    """Unique slugs per space, as the services make them (``title``, then ``title-2``, ...)."""

    def __init__(self) -> None:
        self.taken: dict[tuple, set[str]] = {}

    def make(self, scope: tuple, title: str, fallback: str) -> str:
        """A slug for ``title`` not yet taken in ``scope`` (e.g. ``("page", space)``)."""
        base = slugify(title, allow_unicode=True)[:70] or fallback
        taken = self.taken.setdefault(scope, set())
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        return slug
