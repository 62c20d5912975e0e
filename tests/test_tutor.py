"""The Socratic tutor (mentor.tutor) and the steps and misconceptions of the demo
questions (mentor.questions, mentor.demo.questions).

Hand-worked cases: 1/3 + 1/4 answered 2/7 is the "adding denominators"
misconception, exposed by the common-denominator step; 52 - 17 answered 45 is
"smaller from larger" (|2 - 7| = 5 ones, 5 - 1 = 4 tens); 27 + 15 answered 32
drops the carry and 312 writes each column's sum. The knowledge-tracing update
is checked against Bayes' rule by hand. The LLM tutor runs on hand-written
reply fixtures (tests/fixtures/tutor), once through a test double and once
through OpenAIChat against a loopback server.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mentor.demo.questions import TEMPLATES, generate, question_for
from mentor.questions import Question
from mentor.tutor import (
    PROGRAMS,
    REVEALED,
    SOLVED,
    FreeItem,
    LLMPlanner,
    StepPlanner,
    TutorError,
    TutorSession,
    resume,
    reveals,
)
from mentor.tutor.programs import run_tests
from mentor.tutor.state import bkt_update

FIXTURES = Path(__file__).parent / "fixtures" / "tutor"


def find(template: str, level: int, text: str) -> Question:
    """The first generated question of ``template`` at ``level`` whose text is ``text``."""
    for k in range(5000):
        q = question_for(f"{template}-{level}", {"template": template, "level": level}, "t", k)
        if q.text == text:
            return q
    raise AssertionError(f"no {template}-{level} question {text!r}")


# ------------------------------------------------------------ steps and misconceptions
def test_every_question_knows_its_steps_and_its_misconceptions_are_wrong_answers():
    rng = np.random.default_rng(0)
    for name in TEMPLATES:
        for level in (1, 2, 3):
            for _ in range(40):
                q = generate(name, level, rng)
                assert q.steps, (name, level)
                for step in q.steps:
                    assert step.question().check(step.answer), (q.text, step)
                    assert step.skill in TEMPLATES
                for m in q.misconceptions:
                    assert not q.check(m.answer), (q.text, m)
                    assert m in q.diagnose(m.answer)
                    q.step(m.step)  # the step that exposes it exists


def test_misconceptions_are_detected_by_value_hand_worked():
    q = find("add_unlike", 2, "1/3 + 1/4 = ?")
    assert q.answer == "7/12"
    [found] = q.diagnose("2/7")
    assert (found.id, found.step) == ("add_denominators", "common_denominator")
    assert q.diagnose("4/14")[0].id == "add_denominators"  # same value as 2/7
    assert q.diagnose("7/12") == () and q.diagnose("5/12") == ()
    assert [s.answer for s in q.steps] == ["12", "4", "3", "7/12"]

    q = find("sub_borrow", 2, "52 \u2212 17 = ?")
    assert q.diagnose("45")[0].id == "smaller_from_larger"
    assert q.diagnose("45")[0].step == "borrow_ones"
    assert q.diagnose("45 ")[0].id == "smaller_from_larger"
    assert q.diagnose("45") != q.diagnose("35")

    q = find("add_carry", 2, "27 + 15 = ?")
    assert q.diagnose("32")[0].id == "no_carry"
    assert q.diagnose("312")[0].id == "column_sums"
    assert [s.answer for s in q.steps] == ["12", "4"]


# ------------------------------------------------------------ the knowledge estimate
def test_the_estimate_is_bayes_rule_then_learning():
    # right: .5 * .9 / (.5 * .9 + .5 * .15) = .857142..., then + (1 - .857142) * .2
    assert bkt_update(0.5, True) == pytest.approx(0.857142857 + 0.142857143 * 0.2)
    # wrong: .5 * .1 / (.5 * .1 + .5 * .85) = .105263..., then + .894737 * .2
    assert bkt_update(0.5, False) == pytest.approx(0.105263158 + 0.894736842 * 0.2)


# ------------------------------------------------------------ the session
def session_for(text: str, wrong: str, priors=None, template="add_unlike", level=2):
    q = find(template, level, text)
    return q, TutorSession(StepPlanner(q, priors or {}, template), wrong_answer=wrong)


def test_the_misconception_picks_the_first_question_and_right_answers_go_down_the_tree():
    q, s = session_for("1/3 + 1/4 = ?", "2/7", {"equivalent": 0.7, "add_like": 0.95})
    opening = s.start()
    assert "You answered 2/7" in opening.feedback
    # common_denominator: .7 x .2 = .14 (the misconception points at it), lowest
    assert opening.prompt == q.step("common_denominator").prompt
    assert s.attributes_[3].status == "assumed"  # add_like .95 >= .9
    levels = []
    for answer in ("12", "4", "3"):
        reply = s.answer(answer)
        assert reply.event.outcome == 1.0 and reply.event.skill == "equivalent"
        levels.append(s.nodes_[-2].level)
    assert levels == [0, 1, 2]  # a child question after each right answer
    assert reply.prompt == "Now try the whole question again: 1/3 + 1/4 = ?"
    done = s.answer("7/12")
    # the whole question's row is the opening attempt: its answer here is no event
    assert done.status == SOLVED and done.prompt is None and done.events == []
    assert s.turns() == 4 and s.stuck() == []
    with pytest.raises(TutorError, match="solved"):
        s.answer("7/12")


def test_siblings_then_a_teaching_hint_after_three_at_one_level():
    q, s = session_for("1/3 + 1/4 = ?", "2/7")
    s.start()
    first = s.answer("7")
    assert first.feedback == "Not quite." and first.prompt.startswith("Hint: ")
    second = s.answer("7")
    assert second.prompt.startswith("Careful: it looks like you added the numerators")
    # a closed question: the right answer beside the learner's wrong one and a neighbour
    assert second.prompt.endswith("divide into? Is it 7, 12 or 13?")
    assert [n.level for n in s.nodes_] == [0, 0, 0]  # siblings stay at the level
    third = s.answer("1")
    assert "12 is the smallest common multiple of 3 and 4" in third.feedback
    assert s.nodes_[-2].kind == "teach" and s.nodes_[-1].level == 1
    assert s.stuck() == ["common_denominator"]
    assert s.attributes_[0].status == "taught"


def test_the_solution_only_after_three_wrong_tries_at_the_whole_question():
    q, s = session_for("1/3 + 1/4 = ?", "", {"equivalent": 0.99, "add_like": 0.99})
    assert s.start().prompt == "Now try the whole question again: 1/3 + 1/4 = ?"
    reply = s.answer("5/12")  # try 1, no misconception: the assumed steps reopen
    assert "check one step again" in reply.feedback and reply.prompt == q.steps[0].prompt
    for answer in ("12", "4", "3"):
        reply = s.answer(answer)
    assert reply.prompt == q.step("combine").prompt
    reply = s.answer("5/12")  # wrong at the combine step: a sibling
    reply = s.answer("7/13")
    reply = s.answer("1")  # third at the level: the teaching hint would give 7/12 away
    assert "Think about it this way" in reply.feedback and "7/12" not in reply.feedback
    assert reply.prompt.startswith("Put your steps together")  # final try 2
    reply = s.answer("2/7")  # try 2: adding denominators reopens the common denominator
    assert reply.status == "active" and reply.prompt == q.step("common_denominator").prompt
    assert s.attributes_[0].misconceptions == [
        "added the numerators and the denominators separately"
    ]
    reply = s.answer("12")
    assert reply.prompt.startswith("Put your steps together")
    reply = s.answer("0")  # try 3
    assert reply.status == REVEALED and reply.feedback.endswith("So the answer is 7/12.")
    assert s.nodes_[-1].kind == "solution"


def test_the_whole_answer_given_to_a_sub_question_ends_the_session():
    q, s = session_for("1/3 + 1/4 = ?", "2/7")
    s.start()
    reply = s.answer("7/12")
    assert reply.status == SOLVED and "whole question" in reply.feedback


def test_a_hint_request_climbs_the_ladder_and_counts_as_not_yet_right():
    q, s = session_for("1/3 + 1/4 = ?", "", {"equivalent": 0.5, "add_like": 0.5})
    s.start()
    reply = s.hint()
    assert reply.event.outcome == 0.0 and reply.event.hints == 1
    assert reply.prompt.startswith("Hint: ")
    assert s.attributes_[0].p == pytest.approx(bkt_update(0.5, False))


def test_no_question_or_hint_reveals_the_answer_before_the_solution():
    rng = np.random.default_rng(1)
    for name in TEMPLATES:
        for level in (1, 2, 3):
            for _ in range(8):
                q = generate(name, level, rng)
                s = TutorSession(StepPlanner(q, {}, name), wrong_answer="0")
                reply = s.start()
                while reply.prompt is not None:
                    assert reveals(reply.prompt, [q.answer], q.text) is None, reply.prompt
                    if reply.status == "active" and s.nodes_[-1].kind != "final":
                        assert reveals(reply.feedback, [q.answer], q.text) is None, (
                            q.text,
                            reply.feedback,
                        )
                    reply = s.answer("0")
                assert reply.status == REVEALED


def test_a_saved_session_resumes_exactly():
    q, s = session_for("1/3 + 1/4 = ?", "2/7")
    s.start()
    s.answer("7")
    saved = json.loads(json.dumps(s.state_dict()))
    again = resume(saved)
    for answer in ("12", "3", "3", "7/12"):
        assert again.answer(answer) == s.answer(answer)
    assert again.state_dict() == s.state_dict()
    with pytest.raises(TutorError, match="version"):
        resume({**saved, "version": 9})


def test_the_guard():
    assert reveals("Is it 58/42?", ["29/21"]) == "29/21"
    assert reveals("What is 15/21 + 14/21?", ["29/21"]) is None
    assert (
        reveals("What is 3 + ? = 6", ["3"], given="3 + ? = 6. What is the missing number?") is None
    )
    assert reveals("Try range(1, n + 1) instead", ["range(1,n+1)"]) == "range(1,n+1)"


# ------------------------------------------------------------ with a language model
class FixtureChat:
    """A chat model that answers with the fixture's replies in order, checking that
    each request is the call the fixture expects."""

    def __init__(self, path: Path) -> None:
        self.replies = json.loads(path.read_text())["replies"]
        self.calls: list[str] = []

    def complete(self, messages, **options):
        from mentor.llm import Completion

        expected = self.replies[len(self.calls)]
        content = messages[-1]["content"]
        assert content.startswith(f"[{expected['call']}]"), (expected["call"], content[:40])
        self.calls.append(expected["call"])
        return Completion(expected["text"], 10, 10, "fixture")


def run_sum_to_n(chat) -> TutorSession:
    program = next(p for p in PROGRAMS if p.id == "sum_to_n")
    item = FreeItem.from_program(program)
    s = TutorSession(LLMPlanner(chat, item, "for k in range(n):", prior=0.4))
    opening = s.start()
    assert opening.prompt == "What numbers does range(1, 4) give, one by one?"
    reply = s.answer("1, 2, 3, 4")
    assert reply.event.outcome == 0.0 and reply.event.skill == "debugging"
    # the model's first sibling question gave the fix away: asked again
    assert reply.prompt == "If you run list(range(1, 4)) in Python, how many numbers do you get?"
    assert s.attributes_[0].misconceptions == ["thinks range includes its end value"]
    s.answer("three: 1, 2, 3")
    s.answer("4 should be last but the loop stops at 3")
    reply = s.answer("n + 1")
    assert reply.prompt == "Now type the corrected line again."
    done = s.answer("for k in range(1, n+1):")  # matches the reference: no call
    assert done.status == SOLVED
    return s


def test_llm_tutor_on_fixtures_guards_every_question():
    chat = FixtureChat(FIXTURES / "sum_to_n.json")
    s = run_sum_to_n(chat)
    assert chat.calls == ["propose", "judge", "rephrase", "rephrase", "judge", "judge", "judge"]
    saved = json.loads(json.dumps(s.state_dict()))
    assert [a["id"] for a in saved["planner"]["proposal"]] == ["range_stop", "n_missing", "fix"]
    assert resume(saved, chat=chat).status_ == SOLVED
    with pytest.raises(TutorError, match="chat="):
        resume(saved)


def test_llm_tutor_through_openai_chat_on_a_loopback_server():
    from test_llm import Server, completion

    from mentor.llm import OpenAIChat

    replies = json.loads((FIXTURES / "sum_to_n.json").read_text())["replies"]
    script = [(200, completion(r["text"]), {}, 0.0) for r in replies]
    with Server(script) as server:
        run_sum_to_n(OpenAIChat(server.url, "tiny"))
    assert len(server.requests) == 7
    assert server.requests[0]["body"]["messages"][1]["content"].startswith("[propose]")


def test_a_reply_that_is_not_json_is_a_clear_error():
    from mentor.llm import Completion, LLMError

    class Prose:
        def complete(self, messages, **options):
            return Completion("I think the bug is on line 3.", 1, 1, "x")

    item = FreeItem.from_program(PROGRAMS[0])
    with pytest.raises(LLMError, match="'propose'.*not a JSON object"):
        TutorSession(LLMPlanner(Prose(), item)).start()


def test_the_buggy_programs_fail_their_tests_and_the_fixes_pass():
    assert len({p.id for p in PROGRAMS}) == len(PROGRAMS) >= 6
    for program in PROGRAMS:
        assert not run_tests(program, program.code), program.id
        assert run_tests(program, program.fixed_code()), program.id
        assert program.fix.strip() not in program.code


def test_a_teaching_hint_that_would_give_the_answer_away_states_only_the_step():
    q = find("add_like", 1, "1/3 + 1/3 = ?")
    s = TutorSession(StepPlanner(q, {"add_like": 0.99, "add10": 0.2}), wrong_answer="5/3")
    assert s.start().prompt == "How many thirds is 1 + 1?"
    for _ in range(2):
        s.answer("5")
    reply = s.answer("5")
    # the concept "1 + 1 = 2, so the answer is 2/3" would reveal 2/3
    assert reply.feedback == (
        "Not quite. The answer to this step is 2. Work out the numerators only."
    )
    assert reply.prompt == "Now try the whole question again: 1/3 + 1/3 = ?"
    again = s.answer("2/6")  # adding denominators: the assumed step is asked after all
    assert again.prompt == q.step("keep_denominator").prompt
    recap = s.answer("3")
    # try 2 recaps the steps that do not give the answer away
    assert recap.prompt == (
        "Put your steps together: The parts stay thirds, so the denominator "
        "stays 3. Try once more: 1/3 + 1/3 = ?"
    )


def test_a_step_whose_question_gives_an_earlier_one_away_waits_for_it():
    # 1/6 = (1 + 1)/12: the numerators put over 12 unconverted (step convert_first,
    # .9 x .2 = .18). combine (add_like, prior .01) is the least likely known, but
    # "What is 4/12 + 3/12?" gives convert_first's 4 away: it waits.
    q, s = session_for("1/3 + 1/4 = ?", "1/6", {"equivalent": 0.9, "add_like": 0.01})
    assert s.start().prompt == q.step("convert_first").prompt
    assert s.answer("4").prompt == q.step("combine").prompt
    assert s.answer("7/12").status == SOLVED


def test_the_answer_found_early_still_visits_the_step_behind_the_misconception():
    # 1/6: convert_first (.5 x .2 = .1) is the least likely known, but its question
    # "Write 1/3 with denominator 12" gives common_denominator's 12 away, so that
    # step comes first; the learner answers it with the whole answer.
    q, s = session_for("1/3 + 1/4 = ?", "1/6", {"equivalent": 0.5, "add_like": 0.01})
    assert s.start().prompt == q.step("common_denominator").prompt
    reply = s.answer("7/12")
    assert reply.status == "active" and reply.events == []
    assert "One more question before we finish" in reply.feedback
    assert reply.prompt == q.step("convert_first").prompt
    done = s.answer("4")
    assert done.status == SOLVED and done.prompt is None
    assert "the step behind your first answer" in done.feedback


def test_the_student_model_hears_each_sub_question_once_by_its_first_action():
    # ASSISTments' rule (see mentor.tutor.session): 1/3 + 1/4 answered 2/7.
    # common_denominator missed (0), then right after the nudge (no event);
    # convert_first: a hint first (0, hints 1), then right (no event);
    # convert_second right at once (1); combine right at once (1), which is also
    # the whole answer: no event for the whole question.
    q, s = session_for("1/3 + 1/4 = ?", "2/7", {"equivalent": 0.5, "add_like": 0.5})
    assert s.start().events == []
    seen = []
    for action in ("10", "12", None, "4", "3", "7/12"):
        reply = s.hint() if action is None else s.answer(action)
        seen += [(e.attribute, e.skill, e.outcome, e.hints) for e in reply.events]
    assert reply.status == SOLVED
    assert seen == [
        ("common_denominator", "equivalent", 0.0, 0),
        ("convert_first", "equivalent", 0.0, 1),
        ("convert_second", "equivalent", 1.0, 0),
        ("combine", "add_like", 1.0, 0),
    ]
    # the session's own estimate still reads every answer (helped ones included)
    p = bkt_update(bkt_update(0.5 * 0.2, False), True)
    assert s.attributes_[0].p == pytest.approx(p)


def test_what_the_steps_say_is_true():
    # Every "x op y = ?" in a sub-question equals the step's answer, every "x is
    # less than y" holds, no column holds a negative number, and the column steps
    # of carrying and borrowing compose the answer (the level-3 generators once
    # drew sums that do not carry and differences that do not borrow, whose steps
    # then claimed "4 is less than 0" and "3 + 4 + 1 = 7").
    import re
    from fractions import Fraction

    from mentor.questions import parse_number

    sums = re.compile(r"(?:What is |: )((?:\d+\s*[+\u2212\u00d7]\s*)+\d+)(?:\s*=\s*\?|\?)")
    rng = np.random.default_rng(3)
    for name in TEMPLATES:
        for level in (1, 2, 3):
            for _ in range(60):
                q = generate(name, level, rng)
                for step in q.steps:
                    for m in sums.finditer(step.prompt):
                        expr = m.group(1).replace("\u2212", "-").replace("\u00d7", "*")
                        assert Fraction(eval(expr)) == parse_number(step.answer), (q.text, step)
                    for x, y in re.findall(r"(-?\d+) is less than (-?\d+)", step.prompt):
                        assert int(x) < int(y), (q.text, step.prompt)
                    assert not re.search(r"has -\d", step.prompt), (q.text, step.prompt)
                if name in ("add_carry", "sub_borrow"):
                    digits = [s.answer for s in q.steps]
                    ones = int(digits[0]) % 10
                    rest = "".join(digits[1:][::-1]) if name == "sub_borrow" else digits[-1]
                    if name == "add_carry" and len(digits) == 3:
                        rest = digits[2] + str(int(digits[1]) % 10)
                    elif name == "add_carry":
                        rest = digits[1]
                    assert int(f"{rest}{ones}") == int(q.answer), (q.text, digits)


def test_every_question_on_the_page_asks_its_step():
    # A learner who never gets a step right, on every template: each question the
    # tutor puts up still shows its sub-question (before, a question that gave the
    # whole answer away, such as "1 x 4 = ?" for 1/6 = ?/24, was replaced by a bare
    # nudge with nothing to answer), and none gives an earlier open step's answer.
    rng = np.random.default_rng(2)
    for name in TEMPLATES:
        for level in (1, 2, 3):
            for k in range(6):
                q = generate(name, level, rng)
                s = TutorSession(
                    StepPlanner(q),
                    wrong_answer=q.misconceptions[0].answer if q.misconceptions else "",
                )
                s.start()
                turn = 0
                while s.current is not None:
                    node = s.current
                    if node.kind == "step":
                        step = q.step(node.attribute)
                        assert step.prompt in node.text, (q.text, node.text)
                        open_ = [
                            a
                            for a in s.attributes_
                            if a.status == "open" and a.id != node.attribute
                        ]
                        assert (
                            node.rung > 0
                            or not s.planner.blocked(s._attribute(node.attribute), open_)
                            or all(s.planner.blocked(a, []) for a in open_)
                        ), (q.text, node.text)
                    s.hint() if (turn + k) % 3 == 0 else s.answer("99999")
                    turn += 1
                assert s.status_ == REVEALED


def test_the_guard_reads_the_question_s_numbers_as_written():
    # The question's own tokens reveal nothing; the same value written otherwise
    # does (before, "Is it 0.3, 4/10 or 7?" passed for "Write 3/10 as a decimal.",
    # since 0.3 equals the question's 3/10).
    given = "Write 3/10 as a decimal."
    assert reveals("Write 3/10 with denominator 10.", ["0.3"], given) is None
    assert reveals("Is it 0.3 or 0.4?", ["0.3"], given) == "0.3"
    assert reveals("Is it 3/4?", ["3/4"], "Simplify 6/8.") == "3/4"
    assert reveals("What is 4/12 + 3/12?", ["7/12"], "1/3 + 1/4 = ?") is None
    # a decimal step's closed question offers decimals (0.4, not 4/10)
    from mentor.questions import Step
    from mentor.tutor.structured import _options

    step = Step("as_decimal", "Write 3/10 as a decimal.", "0.3", "", "", kind="decimal")
    assert _options(step, []) == "0.2, 0.3 or 0.4"
    assert (
        _options(Step("s", "2.5 + 0.25?", "2.75", "", "", kind="decimal"), ["7"])
        == "2.75, 2.76 or 7"
    )


def test_a_second_try_with_nothing_to_recap_says_so():
    # "How many tens are there in 67?": the one step's statement gives the answer 6,
    # so the second try recaps nothing (before: "Put your steps together. Try once
    # more", with no steps).
    q = find("place_value", 1, "How many tens are there in 67?")
    assert StepPlanner(q).final_prompt(1) == (
        "Think about the step we worked on, then try once more: How many tens are there in 67?"
    )
