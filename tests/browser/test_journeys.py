"""The main journeys of issue 10 (item 7), each in Chromium at desktop size and at 375 x 812.

Each test is what a member does, through the pages a member sees, and asserts what that member would notice.
Two members in one journey (an approver, a second editor, a moderator) each have a browser context of their
own, signed in separately. ``browsing`` (conftest.py) fails a test on any console error or server error.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect


def open_menu(page) -> None:
    """On a phone the main menu is folded into "Menu": unfold it. On a desktop the menu is shown open (its
    summary is hidden), so there is nothing to click."""
    page.wait_for_load_state()
    menu = page.locator("details.site-menu")
    summary = menu.locator("> summary")
    if summary.is_visible() and menu.get_attribute("open") is None:
        summary.click()
    expect(menu.get_by_role("navigation", name="Main")).to_be_visible()


def tab_to(page, target, limit: int = 80) -> None:
    """Move the keyboard focus to ``target`` with the Tab key only."""
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("element => element === document.activeElement", handle):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


def test_sign_up_and_verify_email(browsing, size, live_site):
    address = f"newmember-{size}@example.org"
    page = browsing.open()
    page.goto("/")
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill("a-long-new-password-2026")
    page.get_by_label("Password (again)").fill("a-long-new-password-2026")
    page.locator("main").get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Verify your email address")).to_be_visible()
    browsing.fits(page)

    mails = live_site.mail_for(address)
    assert len(mails) == 1, mails
    link = re.search(r"https?://[^\s\"'<>]+/accounts/confirm-email/[^\s\"'<>]+", mails[0])
    assert link, mails[0]
    page.goto(link.group(0))
    page.locator("main").get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(f"You have confirmed {address}")).to_be_visible()

    # Signed in as the new member, whose address the account page shows.
    expect(page.locator("summary.site-nav-user")).to_contain_text(f"newmember-{size}")
    page.goto("/accounts/email/")
    expect(page.get_by_label("Current email:")).to_have_value(address)
    browsing.finish(page)


def test_answer_the_onboarding_question(browsing, size, world, mine):
    """A newcomer who tries to join is asked the community's question first, then joins."""
    page = browsing.open(mine["newcomer"])
    page.goto(world["open_space_path"])
    page.get_by_role("button", name="Join this space").click()
    expect(page.get_by_text("Welcome! Please read the community's guidelines before you take part.")).to_be_visible()
    expect(page.get_by_role("heading", name="Community guidelines")).to_be_visible()
    browsing.fits(page)
    answer = f"To learn how other offices link registers ({size})."
    page.get_by_label(world["question"]).fill(answer)
    page.get_by_label("I have read and accept the community guidelines").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_text("Thank you! You can now take part in")).to_be_visible()
    page.get_by_role("button", name="Join this space").click()
    expect(page.get_by_text("Welcome to Open Forum!")).to_be_visible()
    # The answer is on the member's profile, under the question it answers.
    open_menu(page)
    page.locator("summary.site-nav-user").click()
    page.get_by_role("link", name="Your profile").click()
    card = page.locator(".card", has_text=world["question"])
    expect(card).to_contain_text(answer)
    browsing.finish(page)


def test_join_an_open_space_with_the_keyboard(browsing, size, world, mine):
    """Keyboard only: Tab to each control, type, Enter."""
    page = browsing.open()
    page.goto("/accounts/login/")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(mine["joiner"])
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(world["password"])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto(world["open_space_path"])
    join = page.get_by_role("button", name="Join this space")
    tab_to(page, join)
    page.keyboard.press("Enter")

    expect(page.get_by_text("Welcome to Open Forum!")).to_be_visible()
    expect(page.get_by_text("You: Editor")).to_be_visible()
    expect(page.get_by_role("button", name="Join this space")).to_have_count(0)
    expect(page.get_by_role("button", name="Leave this space")).to_be_visible()
    browsing.finish(page)


def test_request_to_join_a_private_space_and_get_approved(browsing, size, world, mine, live_site):
    page = browsing.open(mine["requester"])
    page.goto(world["private_space_path"])
    expect(page.get_by_text("The content of this space is for its members.")).to_be_visible()
    page.get_by_role("link", name="Ask to join").click()
    page.get_by_role("textbox").fill("Our office is starting a register-based census; may I follow your work?")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Your request was sent.")).to_be_visible()
    expect(page.get_by_text("Your request to join is waiting for a moderator.")).to_be_visible()
    browsing.fits(page)

    admin = browsing.open(world["space_admin"])
    admin.goto(world["private_space_path"])
    admin.get_by_role("link", name="Join requests").click()
    name = f"Requester-{size.title()}"
    card = admin.locator("article", has_text=name)
    expect(card).to_contain_text("register-based census")
    card.get_by_role("button", name="Approve").click()
    expect(admin.locator("article", has_text=name)).to_have_count(0)
    browsing.fits(admin)

    page.reload()
    expect(page.get_by_role("heading", name="What's happening")).to_be_visible()
    expect(page.get_by_text("You: Editor")).to_be_visible()  # the space's default role
    assert any("Private Group" in mail for mail in live_site.mail_for(mine["requester"]))
    browsing.finish(page)


def test_create_and_edit_a_page(browsing, size, world, mine):
    page = browsing.open(mine["editor"])
    page.goto(world["open_space_path"])
    page.get_by_label("Space sections").get_by_role("link", name="Pages").click()
    page.get_by_role("link", name="New page").click()
    title = f"Blocking strategies {size}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Content (Markdown)").fill("Use **postcode** blocks first.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.locator(".prose strong", has_text="postcode")).to_be_visible()
    browsing.fits(page)

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Content (Markdown)").fill("Use **postcode** blocks first.\n\nThen compare family names.")
    page.get_by_label("Edit summary (optional)").fill("Added the second pass")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text("Then compare family names.")).to_be_visible()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("cell", name="Added the second pass")).to_be_visible()
    browsing.finish(page)


def test_view_history_and_restore_a_version(browsing, size, mine):
    page = browsing.open(mine["editor"])
    page.goto(mine["history_page_path"])
    expect(page.get_by_text("a second version that went wrong")).to_be_visible()
    page.get_by_role("link", name="History").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Compare selected versions").click()
    expect(page.locator("del, .diff-del").first).to_be_visible()
    page.go_back()

    page.locator("tbody tr", has=page.get_by_role("link", name="1", exact=True)).get_by_role(
        "button", name="Restore"
    ).click()
    expect(page.get_by_text("Blocking: the first version.")).to_be_visible()
    expect(page.get_by_text("a second version that went wrong")).to_have_count(0)
    page.get_by_role("link", name="History").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_role("cell", name="Restored from version 1")).to_be_visible()
    browsing.finish(page)


def test_resolve_an_edit_conflict(browsing, size, mine):
    browsing.expect_status(409)  # the conflict page answers 409 Conflict, which Chromium logs as a console error
    first = browsing.open(mine["editor"])
    second = browsing.open(mine["editor2"])
    for page in (first, second):
        page.goto(mine["shared_page_path"])
        page.get_by_role("link", name="Edit", exact=True).click()
        expect(page.get_by_label("Content (Markdown)")).to_have_value(re.compile("1. Welcome"))

    first.get_by_label("Content (Markdown)").fill("Agenda\n\n1. Welcome\n2. Budget for 2027")
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_text("Budget for 2027")).to_be_visible()

    second.get_by_label("Content (Markdown)").fill("Agenda\n\n1. Welcome\n2. Any other business")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("heading", name="Someone saved this page while you were editing")).to_be_visible()
    # The second editor's text was not lost: it is in the form, and the difference is shown.
    expect(second.get_by_label("Content (Markdown)")).to_have_value(re.compile("Any other business"))
    expect(second.locator(".diff del", has_text="Budget")).to_be_visible()
    expect(second.locator(".diff ins", has_text="business")).to_be_visible()
    browsing.fits(second)
    second.get_by_label("Content (Markdown)").fill("Agenda\n\n1. Welcome\n2. Budget for 2027\n3. Any other business")
    second.get_by_role("button", name="Save merged text").click()

    for page in (second, first):
        page.goto(mine["shared_page_path"])
        expect(page.get_by_text("Budget for 2027")).to_be_visible()
        expect(page.get_by_text("Any other business")).to_be_visible()
    browsing.finish(second)


def test_ask_answer_and_accept(browsing, size, world, mine):
    asker = browsing.open(mine["asker"])
    asker.goto(world["open_space_path"])
    asker.get_by_label("Space sections").get_by_role("link", name="Questions").click()
    asker.get_by_role("link", name="Ask a question").click()
    title = f"How do you block on names with diacritics ({size})?"
    asker.get_by_label("Title").fill(title)
    asker.get_by_label("Details").fill("Our registers spell the same name several ways.")
    asker.get_by_role("button", name="Post your question").click()
    expect(asker.get_by_role("heading", name=title)).to_be_visible()
    question_url = asker.url

    answerer = browsing.open(mine["answerer"])
    answerer.goto(question_url)
    answerer.get_by_role("textbox", name="Your answer").fill(
        "Strip the accents and compare a phonetic code such as Soundex."
    )
    answerer.get_by_role("button", name="Post your answer").click()
    expect(answerer.locator("article.answer", has_text="phonetic code")).to_be_visible()
    browsing.fits(answerer)

    asker.reload()
    answer = asker.locator("article.answer", has_text="phonetic code")
    answer.get_by_role("button", name="Accept this answer").click()
    accepted = asker.locator("article.answer", has_text="phonetic code")
    expect(accepted).to_contain_text("Accepted answer")
    expect(asker.get_by_role("button", name="Unmark the accepted answer")).to_be_visible()
    browsing.finish(asker)


def test_register_for_an_event_and_download_its_ics(browsing, size, mine):
    page = browsing.open(mine["attendee"])
    page.goto(mine["event_path"])
    expect(page.get_by_text("The meeting link is shown to people registered")).to_be_visible()
    page.get_by_label("Going", exact=True).check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("You are going.")).to_be_visible()
    expect(page.get_by_role("link", name="https://meet.example.org/linkage-clinic")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to calendar").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    with open(download.path(), encoding="utf-8") as calendar:
        content = calendar.read()
    assert content.startswith("BEGIN:VCALENDAR")
    assert f"SUMMARY:{mine['event_title']}" in content
    browsing.finish(page)


def test_flag_a_post_and_hide_it_as_a_moderator(browsing, size, world, mine):
    page = browsing.open(mine["flagger"])
    page.goto(mine["post_path"])
    page.get_by_text("Flag this post").click()
    page.get_by_label("Spam").check()
    page.get_by_role("button", name="Send to the moderators").click()
    expect(page.locator(".flag-done")).to_be_visible()
    browsing.fits(page)

    moderator = browsing.open(world["moderator"])
    moderator.goto(world["open_space_path"])
    moderator.get_by_role("link", name="Review queue").click()
    entry = moderator.locator("article.moderation-entry", has_text=mine["post_marker"])
    expect(entry).to_contain_text("Spam")
    entry.get_by_role("button", name="Hide").click()
    expect(moderator.locator("article.moderation-entry", has_text=mine["post_marker"])).to_have_count(0)
    browsing.fits(moderator)

    # The flagger no longer finds the post in the space's stream.
    page.goto(world["open_space_path"])
    expect(page.get_by_role("heading", name="What's happening")).to_be_visible()
    expect(page.get_by_text(mine["post_marker"])).to_have_count(0)
    browsing.finish(page)


def test_read_the_analytics_dashboard(browsing, size, world):
    page = browsing.open(world["analyst"])
    page.goto("/")
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    page.get_by_role("link", name="Dashboard of Browser Community").click()
    expect(page.get_by_role("heading", name="Analytics of Browser Community")).to_be_visible()
    expect(page.get_by_role("heading", name="Do members come back?")).to_be_visible()
    expect(page.get_by_role("heading", name="Cohort retention")).to_be_visible()
    browsing.finish(page)
