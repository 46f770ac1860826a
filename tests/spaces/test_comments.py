"""Comments on pages: post, reply, edit with history, delete, hide; each role; XSS; query counts."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spaces import services
from spaces.models import Comment, Item, ModerationState, Visibility
from tests.spaces.helpers import client_for, htmx, messages_of, png_bytes, space_url, template_names

User = get_user_model()


# --- Set-up -------------------------------------------------------------------------------------------------
@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def make_page(w, title: str = "Record linkage guide", *, by=None, parent=None):
    return services.page_create(actor=by or w.editor, space=w.space, title=title, body="Some text.", parent=parent)


def post_comment(w, target, body: str = "Nice **work**", *, by=None, parent=None) -> Comment:
    return services.comment_create(actor=by or w.editor, target=target, body=body, parent=parent)


def create_url(w, item) -> str:
    return space_url("comment-create", w.space, item_id=item.pk)


def comment_url(name: str, w, comment) -> str:
    return space_url(name, w.space, comment_id=comment.pk)


def fresh(model, pk):
    """A new instance, so cached roles and relations from earlier steps do not hide queries."""
    return model.objects.get(pk=pk)


def render_section(item, user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load space_comments %}{% comment_section item user %}")
    return template.render(Context({"item": item, "user": user, "request": request}))


def thread_as(w, page, user) -> str:
    return render_section(Item.objects.select_related("space__community").get(pk=page.item_id), fresh_user(user))


def fresh_user(user):
    if not user.is_authenticated:
        return user
    return User.objects.get(pk=user.pk)


# --- Posting ------------------------------------------------------------------------------------------------
def test_editor_posts_a_markdown_comment_and_is_sent_back_to_it(open_world):
    w = open_world
    page = make_page(w)

    response = client_for(w.editor).post(create_url(w, page.item), {"body": "Nice **work**"})

    comment = Comment.objects.get(target=page.item)
    assert response.status_code == 302
    assert response.url == f"{page.get_absolute_url()}#comment-{comment.pk}"
    assert messages_of(response) == ["Comment posted."]
    assert comment.body_html == "<p>Nice <strong>work</strong></p>\n"
    assert comment.item.kind == "comment"
    assert comment.item.space == w.space
    assert comment.item.author == w.editor
    assert comment.versions.count() == 1


def test_htmx_post_answers_with_the_thread_partial_including_the_new_comment(open_world):
    w = open_world
    page = make_page(w)

    response = htmx(client_for(w.editor), "post", create_url(w, page.item), {"body": "Thanks for this"})

    assert response.status_code == 200
    assert template_names(response)[0] == "spaces/partials/comment_thread.html"
    assert "base.html" not in template_names(response)
    html = response.content.decode()
    assert f'id="comment-thread-{page.item_id}"' in html
    assert "Thanks for this" in html
    assert "Comment posted." in html


def test_empty_comment_is_refused_with_a_clear_message(open_world):
    w = open_world
    page = make_page(w)

    plain = client_for(w.editor).post(create_url(w, page.item), {"body": "   "})
    partial = htmx(client_for(w.editor), "post", create_url(w, page.item), {"body": ""})

    assert messages_of(plain) == ["Write something before posting."]
    assert "Write something before posting." in partial.content.decode()
    assert not Comment.objects.exists()


def test_viewer_cannot_comment(open_world):
    w = open_world
    page = make_page(w)

    response = client_for(w.viewer).post(create_url(w, page.item), {"body": "Hello"})

    assert response.status_code == 403
    assert not Comment.objects.exists()
    assert "Add a comment" not in thread_as(w, page, w.viewer)


def test_anonymous_is_sent_to_sign_in_and_sees_a_sign_in_link(open_world):
    w = open_world
    page = make_page(w)
    post_comment(w, page.item, "Visible to all")

    response = Client().post(create_url(w, page.item), {"body": "Hello"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert Comment.objects.count() == 1
    html = thread_as(w, page, w.anonymous)
    assert "Visible to all" in html
    assert "Sign in to comment." in html


def test_comment_endpoints_refuse_get(open_world):
    w = open_world
    page = make_page(w)
    comment = post_comment(w, page.item)
    browser = client_for(w.editor)

    assert browser.get(create_url(w, page.item)).status_code == 405
    for name in ["comment-edit", "comment-delete", "comment-hide", "comment-unhide"]:
        assert browser.get(comment_url(name, w, comment)).status_code == 405


def test_outsider_of_a_closed_space_gets_404_from_every_comment_action(closed_world):
    w = closed_world
    page = make_page(w)
    comment = post_comment(w, page.item)
    browser = client_for(w.outsider)

    assert browser.post(create_url(w, page.item), {"body": "Hi"}).status_code == 404
    for name in ["comment-edit", "comment-delete", "comment-hide", "comment-unhide"]:
        assert browser.post(comment_url(name, w, comment), {"body": "x"}).status_code == 404
    assert Comment.objects.count() == 1


def test_banned_member_gets_404_in_a_closed_space(closed_world):
    w = closed_world
    page = make_page(w)

    assert client_for(w.banned).post(create_url(w, page.item), {"body": "Hi"}).status_code == 404


def test_reply_to_a_reply_attaches_to_the_top_level_comment(open_world):
    w = open_world
    page = make_page(w)
    top = post_comment(w, page.item, "Top")
    reply = post_comment(w, page.item, "Reply", by=w.moderator, parent=top)

    response = client_for(w.admin).post(create_url(w, page.item), {"body": "Reply to reply", "parent": reply.pk})

    assert response.status_code == 302
    nested = Comment.objects.get(body="Reply to reply")
    assert nested.parent == top
    assert reply.parent == top
    html = thread_as(w, page, w.viewer)
    assert html.index("Top") < html.index("Reply to reply")
    assert html.count('class="comment-replies list"') == 1


def test_reply_to_a_comment_on_another_item_is_refused(open_world):
    w = open_world
    first, second = make_page(w, "First"), make_page(w, "Second")
    elsewhere = post_comment(w, first.item)

    with pytest.raises(ValidationError):
        post_comment(w, second.item, "Lost", parent=elsewhere)


def test_comments_cannot_be_commented_on_directly(open_world):
    w = open_world
    comment = post_comment(w, make_page(w).item)

    with pytest.raises(ValidationError):
        post_comment(w, comment.item, "Meta")


# --- Editing ------------------------------------------------------------------------------------------------
def test_author_edits_own_comment_and_earlier_versions_stay_readable(open_world):
    w = open_world
    page = make_page(w)
    comment = post_comment(w, page.item, "First take")

    response = client_for(w.editor).post(comment_url("comment-edit", w, comment), {"body": "Second *take*"})

    comment.refresh_from_db()
    assert response.status_code == 302
    assert messages_of(response) == ["Comment updated."]
    assert comment.body == "Second *take*"
    assert comment.body_html == "<p>Second <em>take</em></p>\n"
    assert comment.edited_at is not None
    versions = list(comment.versions.order_by("history_id"))
    assert [v.body for v in versions] == ["First take", "Second *take*"]
    assert versions[-1].history_user == w.editor
    assert versions[-1].history_change_reason == "Edited"
    html = thread_as(w, page, w.viewer)
    assert "edited" in html
    assert "1 earlier version" in html
    assert "First take" in html


def test_edit_with_the_same_text_writes_no_version(open_world):
    w = open_world
    comment = post_comment(w, make_page(w).item, "Same")

    services.comment_edit(actor=w.editor, comment=comment, body="Same")

    assert comment.versions.count() == 1
    assert comment.edited_at is None


@pytest.mark.parametrize("who", ["viewer", "moderator", "admin", "community_admin"])
def test_only_the_author_may_edit_a_comment(open_world, who):
    w = open_world
    comment = post_comment(w, make_page(w).item, "Mine")

    response = client_for(getattr(w, who)).post(comment_url("comment-edit", w, comment), {"body": "Yours"})

    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Mine"


def test_htmx_edit_answers_with_the_thread(open_world):
    w = open_world
    page = make_page(w)
    comment = post_comment(w, page.item, "Draft")

    response = htmx(client_for(w.editor), "post", comment_url("comment-edit", w, comment), {"body": "Final"})

    assert template_names(response)[0] == "spaces/partials/comment_thread.html"
    assert "Final" in response.content.decode()


# --- Deleting -----------------------------------------------------------------------------------------------
def test_author_deletes_own_comment_into_the_trash_with_its_replies(open_world):
    w = open_world
    page = make_page(w)
    top = post_comment(w, page.item, "Delete me")
    reply = post_comment(w, page.item, "A reply", by=w.moderator, parent=top)

    response = client_for(w.editor).post(comment_url("comment-delete", w, top))

    assert response.status_code == 302
    assert messages_of(response) == ["Comment deleted."]
    top.item.refresh_from_db()
    reply.item.refresh_from_db()
    assert top.item.deleted_at is not None
    assert top.item.deleted_by == w.editor
    assert reply.item.deleted_at == top.item.deleted_at
    for user in [w.editor, w.moderator, w.admin, w.staff]:
        assert not Item.objects.visible_to(user).filter(kind="comment").exists()
        assert "Delete me" not in thread_as(w, page, user)
        assert "A reply" not in thread_as(w, page, user)


def test_another_editor_cannot_delete_someone_elses_comment(open_world):
    w = open_world
    comment = post_comment(w, make_page(w).item, "Mine", by=w.admin)

    response = client_for(w.editor).post(comment_url("comment-delete", w, comment))

    assert response.status_code == 403
    comment.item.refresh_from_db()
    assert comment.item.deleted_at is None


def test_moderator_may_delete_any_comment(open_world):
    w = open_world
    comment = post_comment(w, make_page(w).item)

    response = client_for(w.moderator).post(comment_url("comment-delete", w, comment))

    assert response.status_code == 302
    comment.item.refresh_from_db()
    assert comment.item.deleted_by == w.moderator


# --- Hiding -------------------------------------------------------------------------------------------------
def test_moderator_hides_a_comment_from_everyone_but_moderators_and_the_author(open_world):
    w = open_world
    page = make_page(w)
    post_comment(w, page.item, "Fine comment", by=w.admin)
    hidden = post_comment(w, page.item, "Rude comment")
    reply = post_comment(w, page.item, "Rude reply underneath", by=w.admin, parent=hidden)

    response = client_for(w.moderator).post(comment_url("comment-hide", w, hidden))

    assert response.status_code == 302
    assert messages_of(response) == ["Comment hidden."]
    hidden.item.refresh_from_db()
    assert hidden.item.moderation_state == ModerationState.HIDDEN
    for user in [w.viewer, w.anonymous, w.outsider]:
        html = thread_as(w, page, user)
        assert "Fine comment" in html
        assert "Rude comment" not in html
        assert "Rude reply underneath" not in html
    author_view = thread_as(w, page, w.editor)
    assert "Rude comment" in author_view
    assert "Hidden by a moderator" in author_view
    for moderator in [w.moderator, w.admin, w.community_moderator]:
        moderator_view = thread_as(w, page, moderator)
        assert "Rude comment" in moderator_view
        assert "Show again" in moderator_view
    assert Item.objects.get(pk=reply.item_id).moderation_state == ModerationState.VISIBLE


def test_hidden_comment_is_left_out_of_recent_changes_except_for_the_author(open_world):
    w = open_world
    page = make_page(w, "Linkage")
    hidden = post_comment(w, page.item, "Rude comment")
    services.comment_hide(actor=w.moderator, comment=hidden)
    url = space_url("recent-changes", w.space)

    viewer_html = client_for(w.viewer).get(url).content.decode()
    author_html = client_for(w.editor).get(url).content.decode()

    anchor = f"#comment-{hidden.pk}"
    assert anchor not in viewer_html
    assert anchor in author_html
    assert "hidden by a moderator" in author_html


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_only_moderators_hide_comments(open_world, who):
    w = open_world
    comment = post_comment(w, make_page(w).item, by=w.admin)

    response = client_for(getattr(w, who)).post(comment_url("comment-hide", w, comment))

    assert response.status_code == 403
    comment.item.refresh_from_db()
    assert comment.item.moderation_state == ModerationState.VISIBLE


def test_moderator_shows_a_hidden_comment_again(open_world):
    w = open_world
    page = make_page(w)
    comment = post_comment(w, page.item, "Second chance")
    services.comment_hide(actor=w.moderator, comment=comment)

    response = htmx(client_for(w.moderator), "post", comment_url("comment-unhide", w, comment))

    assert "Comment shown again." in response.content.decode()
    comment.item.refresh_from_db()
    assert comment.item.moderation_state == ModerationState.VISIBLE
    assert "Second chance" in thread_as(w, page, w.viewer)


# --- Comments inherit what they are on ----------------------------------------------------------------------
def test_comments_on_a_restricted_page_show_only_to_those_who_see_the_page(open_world):
    w = open_world
    page = make_page(w, "Secret plans")
    comment = post_comment(w, page.item, "Whisper")
    services.page_set_restrictions(actor=w.editor, page=page, restrict_view=True, restrict_edit=False)
    url = space_url("recent-changes", w.space)

    viewer_html = client_for(w.viewer).get(url).content.decode()
    admin_html = client_for(w.admin).get(url).content.decode()

    assert "Secret plans" not in viewer_html
    assert f"#comment-{comment.pk}" not in viewer_html
    assert f"#comment-{comment.pk}" in admin_html
    assert client_for(w.viewer).post(comment_url("comment-edit", w, comment), {"body": "x"}).status_code == 404


def test_comments_on_a_file_attached_to_a_restricted_page_stay_with_the_page(open_world, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    w = open_world
    page = make_page(w, "Restricted with attachment")
    upload = SimpleUploadedFile("chart.png", png_bytes(), content_type="image/png")
    asset = services.file_upload(actor=w.editor, space=w.space, upload=upload, page=page)
    comment = post_comment(w, asset.item, "About the chart")
    services.page_set_restrictions(actor=w.editor, page=page, restrict_view=True, restrict_edit=False)

    recent = client_for(w.viewer).get(space_url("recent-changes", w.space)).content.decode()
    posted = client_for(w.viewer).post(create_url(w, asset.item), {"body": "Sneaky"})

    assert f"#comment-{comment.pk}" not in recent
    assert "About the chart" not in thread_as(w, asset, w.viewer)
    assert posted.status_code == 404
    with pytest.raises(PermissionDenied):
        post_comment(w, asset.item, "Sneaky", by=w.moderator)
    assert f"#comment-{comment.pk}" in client_for(w.admin).get(space_url("recent-changes", w.space)).content.decode()


def test_comment_section_renders_nothing_of_an_item_the_user_cannot_see(closed_world):
    w = closed_world
    page = make_page(w)
    post_comment(w, page.item, "Members only")

    html = thread_as(w, page, w.outsider)

    assert "Members only" not in html


# --- Query counts -------------------------------------------------------------------------------------------
def _thread_queries(w, page, user) -> tuple[int, str]:
    item = Item.objects.select_related("space__community").get(pk=page.item_id)
    viewer = fresh_user(user)
    with CaptureQueriesContext(connection) as ctx:
        html = render_section(item, viewer)
    return len(ctx.captured_queries), html


@pytest.mark.parametrize("who", ["viewer", "moderator", "editor"])
def test_comment_thread_query_count_does_not_grow_with_comments(open_world, who):
    w = open_world
    page = make_page(w)
    authors = [w.editor, w.moderator, w.admin]

    def add(n):
        for i in range(n):
            top = post_comment(w, page.item, f"Comment {i}", by=authors[i % 3])
            if i % 2:
                post_comment(w, page.item, f"Reply {i}", by=authors[(i + 1) % 3], parent=top)
            if i % 3 == 0:
                services.comment_edit(actor=top.item.author, comment=top, body=f"Comment {i}, edited")
            if i % 5 == 0:
                services.comment_hide(actor=w.moderator, comment=top)

    add(3)
    few, html_few = _thread_queries(w, page, getattr(w, who))
    add(27)
    many, html_many = _thread_queries(w, page, getattr(w, who))

    assert html_many.count('class="comment ') > html_few.count('class="comment ') >= 3
    assert few == many
    assert many <= 8


# --- XSS ----------------------------------------------------------------------------------------------------
XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1) )",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![img](javascript:alert(1))",
    '![img](/files/1/x.png" onerror="alert(1))',
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<div onmouseover="alert(1)">hover</div>',
    '<a href="#" style="background:url(javascript:alert(1))">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    "`<b onclick=alert(1)>code</b>`",
    '"><img src=x onerror=alert(1)>',
    "<details open ontoggle=alert(1)>",
]
DANGEROUS_TAGS = {"script", "svg", "iframe", "object", "embed", "math", "style", "base", "link", "meta"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")


class _TagAudit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name == "style":
                self.problems.append(f"{tag}[style]")
            if name in {"href", "src", "xlink:href", "action", "formaction", "data"} and value:
                cleaned = "".join(value.split()).lower()
                if cleaned.startswith(DANGEROUS_SCHEMES):
                    self.problems.append(f"{tag}[{name}={value}]")


def audit(html: str) -> list[str]:
    parser = _TagAudit()
    parser.feed(html)
    return parser.problems


def test_xss_corpus_through_comment_bodies_renders_inert(open_world):
    w = open_world
    page = make_page(w, '<img src=x onerror=alert(1)><script>alert("title")</script>')
    browser = client_for(w.editor)
    for payload in XSS_CORPUS:
        assert browser.post(create_url(w, page.item), {"body": payload}).status_code == 302
    edited = Comment.objects.order_by("pk").first()
    services.comment_edit(actor=w.editor, comment=edited, body="Now harmless")
    services.comment_edit(actor=w.editor, comment=edited, body=XSS_CORPUS[-1])

    for user in [w.viewer, w.editor, w.moderator]:
        html = thread_as(w, page, user)
        assert html.count('class="comment ') == len(XSS_CORPUS)
        assert audit(html) == []
    for comment in Comment.objects.all():
        assert audit(comment.body_html) == [], comment.body
        assert "<details" not in comment.body_html and "<form" not in comment.body_html
    recent = client_for(w.viewer).get(space_url("recent-changes", w.space)).content.decode()
    main = recent[recent.index("<main") : recent.index("</main>")]
    assert main.count("#comment-") == len(XSS_CORPUS)
    assert audit(main) == []


def test_service_refuses_a_viewer_and_too_long_bodies(open_world):
    w = open_world
    page = make_page(w)

    with pytest.raises(PermissionDenied):
        post_comment(w, page.item, by=w.viewer)
    with pytest.raises(ValidationError) as exc:
        post_comment(w, page.item, "x" * 10_001)
    assert "under 10000 characters" in str(exc.value)
