"""Demo content for courses (issue 9, item 3): "Data integration basics", three lessons written as pages, a quiz on
the second lesson, several learners at different stages and at least two completions.

Everything goes through the services, as an instructor and learners would do it, and every step first checks
whether it has already been done, so a second run creates nothing new. Called by ``seed_demo``:

    from spaces.management.commands._demo_courses import seed_demo_course
    seed_demo_course(space, instructor, learners)
"""

from __future__ import annotations

from spaces.models import Course, Enrolment, LessonCompletion, Page, Quiz, QuizAttempt, Space
from spaces.services import courses as course_services
from spaces.services import page_create

COURSE_TITLE = "Data integration basics"
COURSE_DESCRIPTION = """\
A short course for staff of national statistics offices who are starting to combine surveys, registers and
administrative data. Three lessons, about twenty minutes each:

1. why and where offices integrate data;
2. how records are linked, deterministically and probabilistically (with a short quiz);
3. how to measure linkage quality, protect privacy and document what was done.
"""

LESSONS = [
    (
        "Why national statistics offices integrate data",
        """\
Statistics offices increasingly produce figures by **combining sources** rather than by running a new survey
for every question. Integration means bringing records about the same people, businesses or places together
so that each source fills the gaps of the others.

## Common sources

- **Surveys**: rich, designed for statistics, but costly and with falling response rates.
- **Administrative data**: tax, social security, education or health registers, collected to run a service.
  They cover almost everyone but measure what the service needs, not what statistics need.
- **Statistical registers**: population, business and address registers that the office keeps itself and
  uses as a backbone for linking everything else.

## What integration makes possible

- Replacing survey questions with register values (income from tax records), which lowers respondent burden.
- Following people over time, for example from education into the labour market.
- Producing detail for small areas and small groups that a sample alone cannot support.
- Checking one source against another to find coverage and measurement errors.

## Before you start

Integration needs a **legal basis** for access and linkage, an agreement with each data owner on purpose and
retention, and a plan for **confidentiality**. Write down the statistical purpose first: it decides which
variables you really need, and the principle of data minimisation says to take no more.
""",
    ),
    (
        "Record linkage methods, deterministic and probabilistic",
        """\
Record linkage decides which records in two files belong to the **same unit**. The steps are the same whatever
the method: **standardise**, **block**, **compare**, **classify**, and **review**.

## 1. Standardise

Clean the linking variables first: upper-case names, remove punctuation and titles, split compound names,
format dates the same way, and parse addresses into components. Most linkage errors start here.

## 2. Block

Comparing every record with every other one is impossible for large files (a million by a million is a
trillion pairs). **Blocking** only compares pairs that agree on a blocking key, such as postcode or year of
birth. Use several passes with different keys, so that an error in one key does not lose a true match.

## 3. Compare and classify

- **Deterministic linkage** accepts a pair when it agrees exactly on a set of variables, ideally a stable
  unique identifier. It is simple and transparent, but misses matches when a value is mistyped or missing.
- **Probabilistic linkage** (the Fellegi-Sunter model) gives each variable a weight: the *m-probability* is the
  chance that it agrees for a true match, the *u-probability* the chance that it agrees by coincidence. Agreement
  adds log2(m/u) to the pair's score, disagreement adds log2((1-m)/(1-u)). Pairs above an upper threshold are
  links, below a lower threshold non-links, and in between go to **clerical review**.

## 4. Review

Clerical reviewers look at the uncertain pairs with all the information available and record their decision,
which also gives a sample to estimate the error rates of the automatic decisions.
""",
    ),
    (
        "Quality, privacy and documentation of linked data",
        """\
A linked file is only as good as its links. Two kinds of **linkage error** matter:

- **False matches** join records of different units, for example two people with the same name and birth date.
- **Missed matches** leave records of the same unit apart, for example when a surname changed after marriage.

Neither is random: missed matches are more frequent for groups whose details change or are recorded less
consistently (young adults who move often, people with names transliterated differently). Analyses of the
linked file can therefore be **biased**, not only less precise.

## Measuring quality

- Take a **clerical review sample** across the range of scores and estimate precision and recall.
- Compare the characteristics of linked and unlinked records to detect groups that link less well.
- Report the linkage rate and the estimated error rates with every output that uses the file.

## Protecting privacy

- Apply the **separation principle**: the team that links sees identifiers but not content variables; analysts
  see content but only a linkage key.
- Where identifiers cannot leave a data owner, use **privacy-preserving record linkage**, for example keyed
  hashes or Bloom-filter encodings of names, so that only encoded values are compared.
- Delete identifiers and intermediate files as soon as the agreed retention period ends.

## Documenting

Record the sources and their reference dates, the cleaning rules, blocking passes, weights and thresholds, the
review procedure and the quality results. Good documentation lets the next linkage, and its users, trust and
reproduce yours.
""",
    ),
]

QUIZ_PASS_MARK = 70
QUIZ = [
    {
        "text": "Why do linkage projects use blocking?",
        "multiple": False,
        "options": [
            {"label": "To compare only pairs that agree on a key, so the number of comparisons stays manageable"},
            {"label": "To remove duplicate records from each file"},
            {"label": "To hide identifiers from analysts"},
        ],
        "correct": [0],
    },
    {
        "text": "In the Fellegi-Sunter model, what is the u-probability of a variable?",
        "multiple": False,
        "options": [
            {"label": "The chance that it agrees for a true match"},
            {"label": "The chance that it agrees by coincidence for a pair that is not a match"},
            {"label": "The share of records where it is missing"},
        ],
        "correct": [1],
    },
    {
        "text": "Which pairs go to clerical review? (choose every right answer)",
        "multiple": True,
        "options": [
            {"label": "Pairs whose score falls between the lower and the upper threshold"},
            {"label": "A sample of automatic decisions, to estimate error rates"},
            {"label": "Every pair that agrees on a unique identifier"},
        ],
        "correct": [0, 1],
    },
]


def _quiz_questions() -> list[dict]:
    return [
        {
            "text": q["text"],
            "multiple": q["multiple"],
            "options": [{"label": o["label"], "correct": i in q["correct"]} for i, o in enumerate(q["options"])],
        }
        for q in QUIZ
    ]


def _answers(quiz: Quiz, *, right: bool) -> dict[int, list[int]]:
    """All right answers, or a wrong answer to every question (a learner who has not read the lesson)."""
    answers = {}
    for question in quiz.questions.prefetch_related("options"):
        options = list(question.options.all())
        if right:
            answers[question.pk] = [o.pk for o in options if o.is_correct]
        else:
            answers[question.pk] = [next(o.pk for o in options if not o.is_correct)]
    return answers


def _page(space: Space, instructor, title: str, body: str) -> Page:
    page = Page.objects.filter(space=space, title=title).first()
    return page or page_create(actor=instructor, space=space, title=title, body=body, summary="Course lesson")


def seed_demo_course(space: Space, instructor, learners: list) -> None:
    """One published course in ``space`` taught by ``instructor`` (an editor or above there), with ``learners``
    (members who can read the space) enrolled: the first two complete it, the third is half-way after failing the
    quiz once, the others have just enrolled. Idempotent."""
    course = Course.objects.filter(space=space, title=COURSE_TITLE).first()
    if course is None:
        course = course_services.course_create(
            actor=instructor, space=space, title=COURSE_TITLE, description=COURSE_DESCRIPTION, is_published=True
        )
    lessons = []
    for title, body in LESSONS:
        page = _page(space, instructor, title, body)
        lesson = course.lessons.filter(page=page).first()
        lessons.append(lesson or course_services.lesson_add(actor=instructor, course=course, page=page))
    quiz = Quiz.objects.filter(lesson=lessons[1]).first()
    if quiz is None:
        quiz = course_services.quiz_set(
            actor=instructor, lesson=lessons[1], pass_mark=QUIZ_PASS_MARK, questions=_quiz_questions()
        )

    for n, learner in enumerate(learners):
        if not Enrolment.objects.filter(course=course, user=learner).exists():
            course_services.course_enrol(actor=learner, course=course)
        if n > 2:
            continue  # just enrolled
        if not LessonCompletion.objects.filter(lesson=lessons[0], user=learner).exists():
            course_services.lesson_mark_done(actor=learner, lesson=lessons[0])
        attempts = QuizAttempt.objects.filter(quiz=quiz, user=learner)
        if n == 2:  # failed the quiz once; will come back
            if not attempts.exists():
                course_services.quiz_submit(actor=learner, lesson=lessons[1], answers=_answers(quiz, right=False))
            continue
        if not attempts.filter(passed=True).exists():
            if n == 1 and not attempts.exists():  # the second learner needed two tries
                course_services.quiz_submit(actor=learner, lesson=lessons[1], answers=_answers(quiz, right=False))
            course_services.quiz_submit(actor=learner, lesson=lessons[1], answers=_answers(quiz, right=True))
        if not LessonCompletion.objects.filter(lesson=lessons[2], user=learner).exists():
            course_services.lesson_mark_done(actor=learner, lesson=lessons[2])
