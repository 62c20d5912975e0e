"""The tutoring pages: "Let's work it out" after a wrong answer on the practice
page, the session page, and the admin's view of where learners got stuck.

Plain HTTP (in-process, the demo course, a fixed clock), then in a browser
(Playwright driving /usr/bin/chromium at phone width, against a real server): a
learner answers wrong, opens the session from the feedback, works through the
steps with the keyboard only (one hint asked for on the way), fixes the answer,
and the knowledge map shows the change. Set MENTOR_WEB_SCREENSHOTS to a folder
to keep screenshots.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from test_web import (  # noqa: E402, F401 - the demo app, the browser and the server
    assert_accessible,
    browser,
    demo,
    demo_app,
    form_fields,
    new_learner,
    screenshot,
    server,
    signed_in,
)

from mentor.demo import course, question_for  # noqa: E402
from mentor.questions import Question  # noqa: E402
from mentor.service.web.knowledge_map import band  # noqa: E402


def wrong_for(question: Question) -> str:
    """A wrong answer that shows a misconception, when the question knows one."""
    return question.misconceptions[0].answer if question.misconceptions else "-999"


def step_answer(question: Question, prompt: str) -> str:
    """The right answer to the tutor's current question (a step, or the whole)."""
    for step in question.steps:
        if step.prompt in prompt:
            return step.answer
    return question.answer


def answer_wrong(client, name: str) -> tuple[Question, str, str]:
    page = client.get("/practice/arithmetic").text
    fields = form_fields(page)
    item = fields["item"]
    question = question_for(item, course().item(item).attributes, name, int(fields["step"]))
    wrong = wrong_for(question)
    response = client.post("/practice/arithmetic", data={**fields, "answer": wrong})
    assert response.status_code == 200
    return question, wrong, response.text


def test_a_wrong_answer_offers_to_work_it_out_and_the_session_page_leads_to_the_fix(  # noqa: F811
    demo_app,  # noqa: F811
    demo,  # noqa: F811
):
    name, token = new_learner(demo_app)
    client = signed_in(demo_app, token)
    question, wrong, html = answer_wrong(client, name)
    assert "Not quite." in html and "Let's work it out" in html
    # the answer is behind a disclosure, not in the sentence about the learner's answer
    assert f"You answered <strong>{wrong}</strong>." in html
    assert "Just show me the answer" in html
    attempt = re.search(
        r'name="attempt" value="([0-9a-f]{32})">\s*<input type="hidden" '
        r'name="given"',
        html,
    ).group(1)
    csrf = form_fields(html)["csrf"]
    opened = client.post(
        "/practice/arithmetic/tutor",
        data={"csrf": csrf, "attempt": attempt, "given": wrong},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    url = opened.headers["location"]
    assert re.fullmatch(r"/practice/arithmetic/tutor/[0-9a-f]{32}", url)
    page = client.get(url)
    assert page.status_code == 200
    assert_accessible(page.text)
    assert f"You answered <strong>{wrong}</strong>" in page.text
    misconception = question.misconceptions[0]
    assert question.step(misconception.step).prompt in page.text
    assert "Give me a hint" in page.text
    # an empty answer is refused with a notice, not recorded
    empty = client.post(url, data={"csrf": csrf, "answer": " "})
    assert empty.status_code == 422 and "Type an answer, or ask for a hint." in empty.text
    html = page.text
    for _ in range(12):
        prompt = re.search(r'<p class="prompt" id="prompt">(.*?)</p>', html, re.S)
        if prompt is None:
            break
        text = prompt.group(1).replace("&#39;", "'").replace("&amp;", "&")
        response = client.post(url, data={"csrf": csrf, "answer": step_answer(question, text)})
        assert response.status_code == 200
        html = response.text
    assert "You worked it out!" in html and "Back to practice" in html
    assert_accessible(html)
    # each skill with the knowledge map's word for its mastery; the demo's BKT leaves a
    # skill first met in this question below 50 % after one right step (see the demo's
    # parameters), so the page says why the number is still low
    changes = re.findall(r'<p class="change">(.*?): (.*?) \((\d+)% mastery\)\.</p>', html)
    assert changes, html
    for _, word, percent in changes:
        assert word == band(int(percent) / 100).name.replace("mastered", "mastered ✓")
    learning = [name for name, word, _ in changes if word != "mastered ✓"]
    assert ('id="why-more"' in html) == bool(learning)
    assert all(name in html.split('id="why-more"')[-1] for name in learning)
    # a resent form is not recorded twice
    again = client.post(url, data={"csrf": csrf, "answer": question.answer})
    assert again.status_code == 200 and "already answered" in again.text
    admin = signed_in(demo_app, demo.admin_key)
    listed = admin.get("/admin/courses/arithmetic/tutoring")
    assert listed.status_code == 200
    assert_accessible(listed.text)
    assert name in listed.text and "worked out" in listed.text
    assert misconception.text in listed.text
    assert "/admin/courses/arithmetic/tutoring" in admin.get("/admin/courses/arithmetic").text
    # another learner cannot see the session
    _, other = new_learner(demo_app)
    assert signed_in(demo_app, other).get(url).status_code == 404


def test_browser_a_learner_works_out_a_wrong_answer_and_the_map_changes(browser, server):  # noqa: F811
    from playwright.sync_api import expect

    process, demo = server  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{process.url}/login#token={demo.learner_token}")
    page.wait_for_url("**/practice/arithmetic")

    def mastery(skill: str) -> float:
        page.goto(f"{process.url}/practice/arithmetic/map")
        return float(page.locator(f'g.skill[data-skill="{skill}"]').get_attribute("data-mastery"))

    page.goto(f"{process.url}/practice/arithmetic")
    item = page.locator("input[name=item]").get_attribute("value")
    step = int(page.locator("input[name=step]").get_attribute("value"))
    question = question_for(item, course().item(item).attributes, demo.learner, step)
    skills = sorted({s.skill for s in question.steps} | {item.rsplit("-", 1)[0]})
    before = {s: mastery(s) for s in skills}
    page.goto(f"{process.url}/practice/arithmetic")
    wrong = wrong_for(question)
    if question.kind == "choice":
        page.get_by_label(wrong, exact=False).first.check()
        page.get_by_role("button", name="Check answer").click()
    else:
        expect(page.get_by_label("Your answer")).to_be_focused()
        page.keyboard.type(wrong)
        page.keyboard.press("Enter")
    expect(page.locator("#feedback")).to_contain_text("Not quite.")
    button = page.get_by_role("button", name="Let's work it out")
    expect(button).to_be_visible()
    screenshot(page, "tutor-0-wrong-answer")
    # keyboard: from the next question's field, Shift+Tab reaches the button
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/practice/arithmetic/tutor/*")
    expect(page.locator("h1")).to_have_text("Let's work it out")
    screenshot(page, "tutor-1-first-question")
    answer = page.get_by_label("Your answer")
    expect(answer).to_be_focused()
    # one hint first, by keyboard: Tab from the field to Answer, then to the hint button
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Give me a hint")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#prompt")).to_contain_text("Hint:")
    screenshot(page, "tutor-2-hint")
    for _ in range(12):
        if page.locator("#prompt").count() == 0:
            break
        prompt = page.locator("#prompt").inner_text()
        expect(page.get_by_label("Your answer")).to_be_focused()
        page.keyboard.type(step_answer(question, prompt))
        with page.expect_navigation():  # the answer is a form post: wait for its page,
            page.keyboard.press("Enter")  # not the one still shown (a race under load)
    expect(page.locator("#done-heading")).to_have_text("You worked it out!")
    screenshot(page, "tutor-3-worked-out")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide at phone width"
    after = {s: mastery(s) for s in skills}
    assert after != before, (before, after)
    screenshot(page, "tutor-4-map")
    assert not errors, errors
    context.close()


def test_a_code_item_shows_its_program_and_the_model_tutors_it_without_the_fix(
    demo_app,  # noqa: F811
    demo,  # noqa: F811
):
    import json

    from test_tutor import FIXTURES, FixtureChat

    from mentor.service.testing import bearer
    from mentor.tutor import PROGRAMS, FreeItem

    app, _, _, api = demo_app
    program = next(p for p in PROGRAMS if p.id == "sum_to_n")
    item = FreeItem.from_program(program)
    domain = {
        "skills": [{"id": "loops"}],
        "prerequisites": [],
        "items": [
            {
                "id": "sum_to_n",
                "skills": ["loops"],
                "attributes": {
                    "question": item.prompt,
                    "answer": program.fix,
                    "code": program.code,
                },
            }
        ],
    }
    made = api.post(
        "/v1/courses",
        headers=bearer(demo.admin_key),
        data={"id": "debugging"},
        files={"items": ("d.json", json.dumps(domain).encode(), "application/json")},
    )
    assert made.status_code == 201, made.text
    name, token = new_learner(demo_app)
    client = signed_in(demo_app, token)
    page = client.get("/practice/debugging").text
    assert '<pre class="code" id="code">def sum_to_n(n):' in page
    app.state.service.tutor_chat = FixtureChat(FIXTURES / "sum_to_n.json")
    try:
        html = client.post(
            "/practice/debugging", data={**form_fields(page), "answer": "for k in range(n):"}
        ).text
        assert "Let's work it out" in html
        csrf = form_fields(html)["csrf"]
        attempt = re.search(
            r'name="attempt" value="([0-9a-f]{32})">\s*<input type="hidden" '
            r'name="given"',
            html,
        ).group(1)
        opened = client.post(
            "/practice/debugging/tutor",
            data={"csrf": csrf, "attempt": attempt, "given": "for k in range(n):"},
        )
        assert opened.status_code == 200
        assert '<pre class="code" id="original">' in opened.text
        assert "What numbers does range(1, 4) give, one by one?" in opened.text
        url = opened.url.path
        reply = client.post(url, data={"csrf": csrf, "answer": "1, 2, 3, 4"}).text
        # the model's first sibling question gave the fix away and was never shown
        assert "If you run list(range(1, 4)) in Python, how many numbers do you get?" in reply
        assert "range(1, n + 1)" not in reply and program.fix not in reply
        assert_accessible(reply)
    finally:
        app.state.service.tutor_chat = None
