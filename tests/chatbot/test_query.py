"""Question understanding: report types, dates, latest/earliest, follow-ups, filters, off-topic and personal questions."""

from __future__ import annotations

import re
from datetime import date

import pytest

from chatbot.authorities import Gazetteer
from chatbot.query import (
    PERSONAL,
    QueryPlan,
    answer_state,
    conversation_states,
    detect_dates,
    detect_report_types,
    expand_terms,
    expected_answer_type,
    figure_asked,
    has_answer_type,
    is_follow_up,
    names_shorthand,
    plan_query,
    search_text,
    split_expansion,
    state_from_text,
)
from core.models import Filters, ShownReport, Turn, TurnState


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


def plan(gazetteer: Gazetteer, question: str, history: list[str] = (), filters: Filters | None = None) -> QueryPlan:
    return plan_query(question, [Turn(user, "An earlier answer.") for user in history], filters, gazetteer)


# ---- report types and dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What did the focused visit find?", ("focused_visit",)),
        ("the focussed visits to Trafford", ("focused_visit",)),
        ("the latest ILACS report", ("ilacs_inspection",)),
        ("the full inspection", ("ilacs_inspection",)),
        ("the area SEND inspection of Blackpool", ("area_send_inspection",)),
        ("children with special educational needs", ("area_send_inspection",)),
        ("the SIF inspection of 2018", ("sif_inspection",)),
        ("under the single inspection framework", ("sif_inspection",)),
        ("a monitoring visit", ("monitoring_visit",)),
        ("the focused visit and the ILACS", ("focused_visit", "ilacs_inspection")),
        ("did they send them a letter?", ()),
        ("What did inspectors say about care leavers?", ()),
    ],
)
def test_detect_report_types(text: str, expected: tuple[str, ...]) -> None:
    assert detect_report_types(text) == expected


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("care leavers in 2023", date(2023, 1, 1), date(2023, 12, 31)),
        ("care leavers since 2021", date(2021, 1, 1), None),
        ("care leavers before 2020", None, date(2019, 12, 31)),
        ("care leavers prior to 2020", None, date(2019, 12, 31)),
        ("care leavers after 2022", date(2023, 1, 1), None),
        ("care leavers between 2019 and 2023", date(2019, 1, 1), date(2023, 12, 31)),
        ("care leavers between 2023 and 2019", date(2019, 1, 1), date(2023, 12, 31)),
        ("after 2022 and before 2025", date(2023, 1, 1), date(2024, 12, 31)),
        ("the 2019 and 2023 reports", date(2019, 1, 1), date(2023, 12, 31)),
        ("care leavers", None, None),
        ("a caseload of 20 children", None, None),  # not a year
        # one end of an open range named by a month or a year's start or end: not a window of that month or year
        ("increased since April 2018", date(2018, 4, 1), None),
        ("rated inadequate overall since the start of 2023", date(2023, 1, 1), None),
        ("Trafford reports from May 2019 onwards", date(2019, 5, 1), None),
        ("Trafford after June 2023", date(2023, 7, 1), None),
        ("after the end of 2022", date(2023, 1, 1), None),
        ("before March 2020", None, date(2020, 2, 29)),
        ("published until the end of 2021", None, date(2021, 12, 31)),
        ("the December 2021 inspection", date(2021, 12, 1), date(2021, 12, 31)),  # a month alone is that month
    ],
)
def test_detect_dates(text: str, start: date | None, end: date | None) -> None:
    assert detect_dates(text) == (start, end)


def test_detect_dates_from_to() -> None:
    assert detect_dates("reports from 2019 to 2021") == (date(2019, 1, 1), date(2021, 12, 31))


@pytest.mark.parametrize(
    ("question", "latest", "earliest"),
    [
        ("What did the latest inspection of Trafford say?", True, False),
        ("What did Trafford's last inspection find?", True, False),
        ("What did the most recent report on Camden say?", True, False),
        ("What did the earliest Trafford report say?", False, True),
        ("What did Trafford's first inspection find?", False, True),
        ("What did Trafford's 2019 inspection find?", False, False),
        ("What did the last inspection of Trafford in 2019 find?", False, False),  # a year wins over "last"
        ("What did inspectors say about Trafford's leaders?", False, False),
    ],
)
def test_latest_and_earliest(gazetteer: Gazetteer, question: str, latest: bool, earliest: bool) -> None:
    result = plan(gazetteer, question)
    assert (result.latest, result.earliest) == (latest, earliest)


def test_plan_scope_from_the_question(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "What did the 2021 focused visit to Bucks say about care leavers?")
    assert result.authorities == ("Buckinghamshire",)
    assert result.authority_source == "question"
    assert result.report_types == ("focused_visit",)
    assert (result.published_from, result.published_to) == (date(2021, 1, 1), date(2021, 12, 31))
    assert not result.follow_up
    # the topic keeps what to search for and drops scope words
    assert "care leavers" in result.topic
    assert "Bucks" not in result.topic and "2021" not in result.topic and "focused visit" not in result.topic


@pytest.mark.parametrize(
    ("question", "dated_by"),
    [
        ("Which councils were judged outstanding for care leavers in inspections published in 2024?", "published"),
        ("What came out about Trafford in 2023?", "published"),
        ("Which councils were inspected in 2024?", "visited"),
        ("When was Camden last inspected before 2025?", "visited"),
        ("Which councils did inspectors visit in March 2023?", "visited"),
        ("What did the report on Trafford in 2021 say?", ""),  # a report of 2021: published or visited then
        ("What did Trafford's latest inspection say?", ""),  # no dates asked
    ],
)
def test_the_date_a_time_phrase_names(gazetteer: Gazetteer, question: str, dated_by: str) -> None:
    assert plan(gazetteer, question).dated_by == dated_by


def test_plan_json_is_plain_data(gazetteer: Gazetteer) -> None:
    data = plan(gazetteer, "What did Trafford's inspection say about leaders in 2023?").to_json()
    assert data["authorities"] == ["Trafford"]
    assert data["published_from"] == "2023-01-01" and data["published_to"] == "2023-12-31"
    assert set(data) >= {"question", "standalone", "topic", "authority_source", "report_types", "latest", "earliest", "follow_up", "off_topic", "personal", "notes"}


# ---- follow-ups ------------------------------------------------------------------------------------

TRAFFORD_CARE_LEAVERS = "What did inspectors say about care leavers in Trafford?"


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("And what about their leaders?", [TRAFFORD_CARE_LEAVERS], True),
        ("What did they say about housing?", [TRAFFORD_CARE_LEAVERS], True),
        ("What about Camden?", [TRAFFORD_CARE_LEAVERS], True),  # starts like a follow-up
        ("Housing?", [TRAFFORD_CARE_LEAVERS], True),  # short and names nothing
        ("What did the Camden inspection say about leaders?", [TRAFFORD_CARE_LEAVERS], False),
        ("And what about their leaders?", [], False),  # nothing to follow
    ],
)
def test_is_follow_up(gazetteer: Gazetteer, question: str, history: list[str], expected: bool) -> None:
    states = conversation_states([Turn(user) for user in history], gazetteer)
    assert is_follow_up(question, states, gazetteer.find(question)) is expected


@pytest.mark.parametrize(
    "question",
    ["And what about their leaders?", "What did they say about housing?", "and what about it?"],
)
def test_follow_up_carries_authority_and_topic(gazetteer: Gazetteer, question: str) -> None:
    result = plan(gazetteer, question, [TRAFFORD_CARE_LEAVERS])
    assert result.follow_up
    assert result.authorities == ("Trafford",)
    assert result.authority_source == "history"
    assert "Trafford" in result.standalone
    assert "care leavers" in result.standalone
    assert result.notes


@pytest.mark.parametrize("question", ["How has that changed since 2019?", "Has it improved since then?", "How have they changed over time?"])
def test_a_follow_up_asking_only_how_it_changed_takes_the_conversations_subject(gazetteer: Gazetteer, question: str) -> None:
    result = plan(gazetteer, question, [TRAFFORD_CARE_LEAVERS, "And what about their children in care?"])
    assert result.authorities == ("Trafford",)
    assert "children care" in result.topic


def test_follow_up_naming_another_authority_keeps_the_topic(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "What about Camden?", [TRAFFORD_CARE_LEAVERS])
    assert result.authorities == ("Camden",)
    assert result.authority_source == "question"
    assert "care leavers" in result.standalone


def test_question_naming_its_own_authority_is_not_a_follow_up(gazetteer: Gazetteer) -> None:
    question = "What did the Camden inspection say about leaders?"
    result = plan(gazetteer, question, [TRAFFORD_CARE_LEAVERS])
    assert not result.follow_up
    assert result.authorities == ("Camden",)
    assert result.standalone == question


def test_follow_up_walks_back_to_the_turn_that_named_the_authority(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "And their leaders?", [TRAFFORD_CARE_LEAVERS, "What about housing for them?"])
    assert result.authorities == ("Trafford",)
    assert result.authority_source == "history"


@pytest.mark.parametrize(
    ("question", "earlier", "start", "end", "latest", "earliest"),
    [
        # "next" moves the window after the earlier turn's and takes the first report in it
        ("And what about the next inspection?", "What did Trafford's 2019 inspection say about leaders?", date(2020, 1, 1), None, False, True),
        ("What about the following one?", "What did Trafford's 2023 inspection say about leaders?", date(2024, 1, 1), None, False, True),
        # "previous" moves it before and takes the last report in it
        ("What did the previous one say?", "What did Trafford's 2023 inspection say about leaders?", None, date(2022, 12, 31), True, False),
        ("And the earlier inspection?", "What did Buckinghamshire's 2022 inspection say about leaders?", None, date(2021, 12, 31), True, False),
        ("What did the older report say?", "What did Buckinghamshire's 2025 inspection say about care leavers?", None, date(2024, 12, 31), True, False),
        # "the older ones" are young people, not a report: the time scope stays
        ("What's the problem with support for the older ones?", "How were Buckinghamshire care leavers judged in 2025?", date(2025, 1, 1), date(2025, 12, 31), False, False),
    ],
)
def test_relative_follow_up_moves_the_time_scope(
    gazetteer: Gazetteer, question: str, earlier: str, start: date | None, end: date | None, latest: bool, earliest: bool
) -> None:
    result = plan(gazetteer, question, [earlier])
    assert result.follow_up
    assert result.authority_source == "history"
    assert (result.published_from, result.published_to) == (start, end)
    assert (result.latest, result.earliest) == (latest, earliest)


@pytest.mark.parametrize(
    "question",
    [
        "How does the latest inspection compare with what Trafford's 2022 inspection said about the front door?",
        "What has changed for Trafford care leavers between 2022 and the most recent report?",
    ],
)
def test_a_year_against_the_latest_spans_from_that_year(gazetteer: Gazetteer, question: str) -> None:
    result = plan(gazetteer, question)
    assert (result.published_from, result.published_to) == (date(2022, 1, 1), None)
    assert not re.search(r"latest|most recent", result.topic, re.I)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How does Oldham's care leavers grade compare with its neighbours?", "care leavers grade"),
        ("How does Oldham compare with similar authorities on the front door?", "front door"),
        ("Compare Oldham with its statistical neighbours on caseloads", "caseloads"),
    ],
)
def test_neighbours_in_other_words_are_the_statistical_neighbours(gazetteer: Gazetteer, question: str, topic: str) -> None:
    result = plan(gazetteer, question)
    assert result.authorities[0] == "Oldham" and len(result.authorities) > 1
    assert topic in result.topic and "neighbour" not in result.topic and "similar" not in result.topic


def test_the_latest_alone_is_not_a_span(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "What did Trafford's 2022 inspection say about the front door, the latest one?")
    assert (result.published_from, result.published_to) == (date(2022, 1, 1), date(2022, 12, 31))


def test_follow_up_without_relative_word_keeps_the_earlier_time_scope(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "And what about their leaders?", ["What did Trafford's 2019 inspection say about care leavers?"])
    assert (result.published_from, result.published_to) == (date(2019, 1, 1), date(2019, 12, 31))


# ---- user filters ----------------------------------------------------------------------------------


def test_filter_scopes_a_question_that_names_no_authority(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "What did inspectors say about care leavers?", filters=Filters(local_authorities=("Buckinghamshire",)))
    assert result.authorities == ("Buckinghamshire",)
    assert result.authority_source == "filter"


def test_filter_overrides_an_authority_outside_it(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "What about the leaders in Camden?", filters=Filters(local_authorities=("Trafford",)))
    assert result.authorities == ("Trafford",)
    assert any("filter" in note for note in result.notes)


def test_filter_narrows_the_question_to_authorities_inside_it(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "Compare leaders in Trafford and Camden", filters=Filters(local_authorities=("Camden", "Islington")))
    assert result.authorities == ("Camden",)


def test_filter_report_type_and_dates_override_the_question(gazetteer: Gazetteer) -> None:
    filters = Filters(report_types=("ilacs_inspection",), published_from=date(2022, 1, 1), published_to=date(2024, 12, 31))
    result = plan(gazetteer, "What did the 2019 focused visit to Trafford say about leaders?", filters=filters)
    assert result.report_types == ("ilacs_inspection",)
    assert (result.published_from, result.published_to) == (date(2022, 1, 1), date(2024, 12, 31))


def test_filter_start_date_is_not_mixed_with_the_question_end_date(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "What did Trafford's 2019 inspection say about leaders?", filters=Filters(published_from=date(2022, 1, 1)))
    assert result.published_from == date(2022, 1, 1)
    assert result.published_to is None or result.published_to >= result.published_from


def test_authority_source_is_filter_when_the_filter_replaces_the_question_authority(gazetteer: Gazetteer) -> None:
    result = plan(gazetteer, "What about the leaders in Camden?", filters=Filters(local_authorities=("Trafford",)))
    assert result.authority_source == "filter"



# ---- personal questions (off-topic is decided from the evidence: tests/chatbot/test_pipeline.py) ------------------


@pytest.mark.parametrize(
    ("question", "personal"),
    [
        ("What happened to the child called Jamie?", True),
        ("Tell me about the boy named Tom in Trafford", True),
        ("Give me the name and address of the care leaver", True),
        ("What is the address of the family?", True),
        ("What are the names of the foster carers?", True),
        ("Which child in Trafford's care was harmed?", True),
        ("which young person was missing?", True),
        ("Which children are most at risk?", False),
        ("Which care leavers were homeless?", False),
        ("What did inspectors say about children missing from care?", False),
        ("What are the names of the authorities judged outstanding?", False),
        ("What is the name of the service for care leavers?", False),
        ("What is the name of the children in care council in Buckinghamshire?", False),
        ("What are the names of the young people in care?", True),
    ],
)
def test_personal(gazetteer: Gazetteer, question: str, personal: bool) -> None:
    assert bool(PERSONAL.search(question)) is personal
    assert plan(gazetteer, question).personal is personal


# ---- search text and answer types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did inspectors say about care leavers?", "care leavers?"),
        ("What did the inspectors say about care leavers?", "care leavers?"),
        ("What did Ofsted find about the front door?", "the front door?"),
        ("What was said about housing for care leavers?", "housing for care leavers?"),
        ("Tell me what inspectors said about supervision of social workers", "supervision of social workers"),
        ("What did inspectors say about it?", "What did inspectors say about it?"),  # too little left: keep it all
        ("care leavers", "care leavers"),
        # "What did the 2019 inspection of Liverpool say about early help?" once its year and authority are gone
        ("What did the inspection of say about early help?", "early help?"),
        ("What did the visit say about care leavers?", "care leavers?"),
    ],
)
def test_search_text(question: str, expected: str) -> None:
    assert search_text(question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much was the budget for care leavers?", "amount"),
        ("What was the spend on agency staff?", "amount"),
        ("What is the name of the director of children's services?", "person"),
        ("Who leads children's services in Trafford?", "person"),
        ("Who inspected Trafford?", None),  # inspectors are a structured question, not a person in the text
        ("What is the name of the service for care leavers?", None),
        ("How many care leavers are in touch?", "number"),
        ("What percentage of children have plans?", "proportion"),
        ("What is the average caseload per social worker?", "number"),
        ("What was the re-referral rate compared with the England average?", None),  # a rate; the average is England's
        ("Who's the PA in charge of the hub? I need their name.", "person"),
        ("What did inspectors say about care leavers?", None),
    ],
)
def test_expected_answer_type(question: str, expected: str | None) -> None:
    assert expected_answer_type(question) == expected


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("amount", "The council spent \u00a32.5 million on the service.", True),
        ("amount", "The budget was 3 million pounds.", True),
        ("amount", "Spending increased.", False),
        ("number", "12% of children have a plan.", True),
        ("proportion", "Most care leavers are in touch.", True),
        ("number", "Care leavers are supported.", False),
        ("number", "The service was inspected in 2019.", False),  # a year counts nothing
        ("person", "The director, Jane Smith, leads the service.", True),
        ("person", "Mr Jones is the director.", True),
        ("person", "Leaders are ambitious for children.", False),
        ("person", "The Children's Services Board met monthly.", False),
        ("other", "Anything at all.", True),
    ],
)
def test_has_answer_type(kind: str, text: str, expected: bool) -> None:
    assert has_answer_type(kind, text) is expected


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # a count must be near what it counts: "350 contacts a month" does not say how many social workers there are
        ("How many social workers does Wigan employ?", "The front door receives around 350 contacts a month.", False),
        ("How many social workers does Wigan employ?", "The service employs 120 social workers and 14 managers.", True),
        ("By how much has the number of care leavers grown?", "The number of care leavers has increased by 11% since April 2018.", True),
        ("How many missing children got a return home interview?", "Only half of the children who go missing are offered an interview.", True),
    ],
)
def test_a_count_is_near_what_it_counts(question: str, text: str, expected: bool) -> None:
    assert has_answer_type(expected_answer_type(question) or "", text, figure_asked(question)) is expected


@pytest.mark.parametrize(
    ("question", "latest", "earliest"),
    [
        ("How well does Trafford respond when children first need help?", False, False),
        ("What happens when a child is first taken into care in Camden?", False, False),
        ("What support is there in their last year of school?", False, False),
        ("How are the oldest children in care supported?", False, False),
        ("When was Trafford first inspected?", False, True),
        ("How did Camden do last time?", True, False),
        ("What is Trafford's current grade?", True, False),
        ("Is Islington currently rated good?", True, False),
    ],
)
def test_first_and_last_are_a_time_only_about_an_inspection(gazetteer: Gazetteer, question: str, latest: bool, earliest: bool) -> None:
    result = plan(gazetteer, question)
    assert (result.latest, result.earliest) == (latest, earliest)


@pytest.mark.parametrize(
    ("question", "kept", "dropped"),
    [
        # a time written as a topic word is the scope, not what to search for
        ("How has Trafford's front door changed between the covid-era focused visit and the 2026 inspection?", "front door", "covid"),
        ("Compare help and protection in Islington and Trafford at their latest inspections.", "help", "latest"),
        ("How has Trafford's leadership judgement changed across its three ILACS inspections?", "leadership", "three"),
        # "during covid" can be the subject: it stays
        ("How did Buckinghamshire keep an eye on home-educated children during covid?", "covid", "Buckinghamshire"),
        # "previous" describes which report is meant when there is no "latest": it stays
        ("When was Blackpool's previous area SEND inspection?", "previous", "Blackpool"),
        # the framing that the scope words hid ("what did the [2018 SIF] say about") goes too: the topic is the subject
        ("What did the 2018 SIF say about Buckinghamshire's LSCB?", "lscb", "say"),
    ],
)
def test_topic_drops_the_scope_words(gazetteer: Gazetteer, question: str, kept: str, dropped: str) -> None:
    topic = plan_query(question, (), None, gazetteer).topic.lower()
    assert kept.lower() in topic and dropped.lower() not in topic


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("the front door", "referrals"),
        ("leadership", "leaders"),  # the stemmer does not take "leadership" to "leaders"
        ("Did the EDT respond at night?", "emergency duty team"),
        ("PAs for care leavers", "personal advisers"),
        ("Have any care leavers lost their homes?", "tenancy breakdowns"),
        ("homes that are not registered with Ofsted", "unregistered children's homes"),
        ("the education of children in care", "virtual school"),  # not "children missing education"
        ("When do care leavers meet their personal adviser?", "after-care workers"),  # the role's local names
    ],
)
def test_glossary_spells_out_shorthand(text: str, meaning: str) -> None:
    assert meaning in expand_terms(text)


def test_glossary_leaves_plain_words_alone() -> None:
    assert expand_terms("How are children in care supported?") == "How are children in care supported?"


def test_split_expansion_gives_the_words_asked_and_each_shorthands_meanings() -> None:
    asked, shorthand = split_expansion(expand_terms("the front door in 2022"))
    assert asked == "the front door in 2022"
    assert shorthand == [("front door", ["contacts", "referrals", "multi-agency safeguarding hub", "MASH", "first response"])]
    assert split_expansion("care leavers") == ("care leavers", [])


def test_comparing_them_takes_the_authorities_of_the_last_turns(gazetteer: Gazetteer) -> None:
    """"Tell me about Leeds" / "And Bradford?" / "Compare them on workforce": both, not Bradford alone."""
    compared = plan(gazetteer, "Compare them on workforce", ["Tell me about Leeds", "And Bradford?"])
    assert compared.authorities == ("Leeds", "Bradford")
    # one authority asked about goes on being the one
    assert plan(gazetteer, "What about its care leavers?", ["Tell me about Leeds", "And Bradford?"]).authorities == ("Bradford",)


def test_the_first_one_after_a_list_is_that_items_authority(gazetteer: Gazetteer) -> None:
    listed = (
        "4 authorities (Halton, Havering, Knowsley, Tameside) were judged inadequate.\n\n"
        "- Halton, ILACS inspection of 12 July 2024: The impact of leaders - Inadequate [1].\n"
        "- Havering, ILACS inspection of 16 February 2024: The impact of leaders - Inadequate [2].\n"
        "- Tameside, ILACS inspection of 7 November 2024: The impact of leaders - Inadequate [3]."
    )
    history = [Turn("Which authorities were judged inadequate for leadership in 2024?", listed)]
    first = plan_query("What did inspectors say about leadership in the first one?", history, None, gazetteer)
    assert first.authorities == ("Halton",) and "first" not in first.topic
    assert plan_query("And the last one?", history, None, gazetteer).authorities == ("Tameside",)


# ---- the conversation's state: follow-ups read the answer's state, never its rendered text ---------------------------

HALTON_2024 = ShownReport("halton-ilacs-2024", "Halton", "ilacs_inspection", date(2024, 7, 12), date(2024, 6, 3), date(2024, 6, 14))
# a passage answer about Trafford whose first bullet quotes a sentence opening with another authority's name, and whose
# question named the town, not the council ("Altrincham" is read as Trafford by the pipeline's places)
ALTRINCHAM_QUESTION = "How well are care leavers supported in Altrincham?"
TRAFFORD_PASSAGES = (
    "- Stockport, Trafford and Manchester share an out-of-hours service, which responds quickly [1].\n"
    "- Care leavers are supported well by personal advisers who know them well [2]."
)
TRAFFORD_STATE = TurnState(
    authorities=("Trafford",),
    topic="care leavers supported",
    route="passage",
    shown=(ShownReport("trafford-ilacs-2026", "Trafford", "ilacs_inspection", date(2026, 8, 3)),),
    listed=("Trafford",),
)


def test_a_turn_given_as_text_has_its_state_read_from_the_text(gazetteer: Gazetteer) -> None:
    text = (
        "**Halton: ILACS inspection, 12 July 2024**\n- The impact of leaders: Inadequate [1].\n\n"
        "- Tameside, ILACS inspection of 7 November 2024: The impact of leaders - Inadequate [2]."
    )
    state = state_from_text(Turn("What did Halton's 2024 focused visit say about leaders?", text), gazetteer)
    assert state.authorities == ("Halton",) and state.report_types == ("focused_visit",)
    assert (state.published_from, state.published_to) == (date(2024, 1, 1), date(2024, 12, 31))
    assert state.shown == (ShownReport(local_authority="Halton", report_type="ilacs_inspection", published=date(2024, 7, 12)),)
    assert state.listed == ("Tameside",) and "leaders" in state.topic and state.route == ""


def test_a_follow_up_takes_the_authority_from_the_state_not_the_text(gazetteer: Gazetteer) -> None:
    question = "And what about their front door?"
    with_state = plan_query(question, [Turn(ALTRINCHAM_QUESTION, TRAFFORD_PASSAGES, TRAFFORD_STATE)], None, gazetteer)
    assert with_state.authorities == ("Trafford",) and with_state.authority_source == "history"
    # the text alone names no council: the town was read as one by the pipeline, which the state records
    assert plan_query(question, [Turn(ALTRINCHAM_QUESTION, TRAFFORD_PASSAGES)], None, gazetteer).authorities == ()


def test_the_first_one_is_the_states_first_item_not_a_quoted_name(gazetteer: Gazetteer) -> None:
    question = "What did inspectors say about leadership in the first one?"
    with_state = plan_query(question, [Turn(ALTRINCHAM_QUESTION, TRAFFORD_PASSAGES, TRAFFORD_STATE)], None, gazetteer)
    assert with_state.authorities == ("Trafford",)
    # read as text, the quoted sentence's first word looks like a list item
    assert plan_query(question, [Turn(ALTRINCHAM_QUESTION, TRAFFORD_PASSAGES)], None, gazetteer).authorities == ("Stockport",)


def test_ordinals_pick_from_the_states_list(gazetteer: Gazetteer) -> None:
    listed = TurnState(route="structured:list", listed=("Halton", "Havering", "Tameside"))
    history = [Turn("Which authorities were judged inadequate for leadership in 2024?", "A list, rendered however it is.", listed)]
    assert plan_query("What did inspectors say about leadership in the first one?", history, None, gazetteer).authorities == ("Halton",)
    assert plan_query("And the second one?", history, None, gazetteer).authorities == ("Havering",)
    assert plan_query("And the last one?", history, None, gazetteer).authorities == ("Tameside",)


def test_since_then_starts_after_the_latest_report_the_state_shows(gazetteer: Gazetteer) -> None:
    state = TurnState(authorities=("Halton",), topic="leaders", shown=(HALTON_2024,))
    # the answer's text names no report in a heading: read as text, "since then" has no date to start from
    history = [Turn("What did inspectors say about Halton's leaders?", "Leaders have not acted quickly enough [1].", state)]
    result = plan_query("What has happened since then?", history, None, gazetteer)
    assert (result.published_from, result.published_to) == (date(2024, 7, 13), None)
    assert result.authorities == ("Halton",)
    text_only = plan_query("What has happened since then?", [Turn(history[0].user, history[0].assistant)], None, gazetteer)
    assert (text_only.published_from, text_only.published_to) == (None, None)


def test_compared_with_a_year_sets_the_shown_report_beside_it(gazetteer: Gazetteer) -> None:
    history = [Turn(ALTRINCHAM_QUESTION, TRAFFORD_PASSAGES, TRAFFORD_STATE)]
    result = plan_query("How does that compare with 2023?", history, None, gazetteer)
    assert (result.published_from, result.published_to) == (date(2023, 1, 1), date(2026, 12, 31))
    assert result.authorities == ("Trafford",)


@pytest.mark.parametrize(
    "question",
    [
        "What are leaders doing about it?",
        "Has the council done anything to fix that?",
        "Are managers on top of it?",
        "Do senior leaders know about this?",
        "What is the director doing for them?",
    ],
)
def test_a_follow_up_that_points_back_keeps_the_conversations_subject(gazetteer: Gazetteer, question: str) -> None:
    """Its own words say what about the subject is asked; the pronoun says the subject is the conversation's."""
    result = plan_query(question, [Turn(ALTRINCHAM_QUESTION, TRAFFORD_PASSAGES, TRAFFORD_STATE)], None, gazetteer)
    assert result.authorities == ("Trafford",)
    assert "care leavers supported" in result.topic and "care leavers supported" in result.subject
    assert "care leavers supported" in result.standalone


def test_that_as_a_determiner_does_not_point_back(gazetteer: Gazetteer) -> None:
    history = [Turn(ALTRINCHAM_QUESTION, TRAFFORD_PASSAGES, TRAFFORD_STATE)]
    result = plan_query("What did that inspection say about adoption support services?", history, None, gazetteer)
    assert "care leavers" not in result.subject and "adoption" in result.subject


def test_is_follow_up_reads_the_states_authorities(gazetteer: Gazetteer) -> None:
    question = "What did inspectors say about the front door?"
    assert is_follow_up(question, [TurnState(authorities=("Trafford",))], [], gazetteer)
    assert not is_follow_up(question, [TurnState(topic="care leavers")], [], gazetteer)


def test_the_answers_state_keeps_what_the_conversation_asked_not_the_filters(gazetteer: Gazetteer) -> None:
    asked = plan_query("What did Trafford's 2023 inspection say about care leavers?", (), None, gazetteer)
    state = answer_state(asked, None, "passage", [TRAFFORD_STATE.shown[0]])
    assert state.authorities == ("Trafford",) and state.topic == "care leavers" and state.route == "passage"
    assert (state.published_from, state.published_to) == (date(2023, 1, 1), date(2023, 12, 31))
    assert state.listed == ("Trafford",)  # no list: the authorities of the reports shown
    filters = Filters(local_authorities=("Camden",), published_from=date(2020, 1, 1))
    filtered = answer_state(plan_query("What did inspectors say about care leavers?", (), filters, gazetteer), filters, "passage", [])
    assert filtered.authorities == () and (filtered.published_from, filtered.published_to) == (None, None)


def test_a_follow_ups_state_keeps_the_conversations_subject(gazetteer: Gazetteer) -> None:
    first = plan_query(TRAFFORD_CARE_LEAVERS, (), None, gazetteer)
    history = [Turn(TRAFFORD_CARE_LEAVERS, "...", answer_state(first, None, "passage", []))]
    changed = plan_query("How has that changed since 2019?", history, None, gazetteer)
    assert changed.subject == "care leavers"  # its own words name no subject
    history.append(Turn("How has that changed since 2019?", "...", answer_state(changed, None, "timeline", [])))
    camden = plan_query("And what about Camden?", history, None, gazetteer)
    assert camden.authorities == ("Camden",) and "care leavers" in camden.standalone


def test_the_state_round_trips_through_json() -> None:
    state = TurnState(
        authorities=("Halton", "Tameside"),
        report_types=("ilacs_inspection",),
        published_from=date(2024, 1, 1),
        published_to=date(2024, 12, 31),
        topic="leaders",
        route="structured:list",
        shown=(HALTON_2024,),
        listed=("Halton", "Tameside"),
    )
    assert TurnState.from_json(state.to_json()) == state
    assert TurnState.from_json({}) == TurnState()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "state: expected an object"),
        ({"colour": "blue"}, "unknown field 'colour'"),
        ({"authorities": "Halton"}, "state.authorities: expected a list of strings"),
        ({"published_from": "12 July 2024"}, "state.published_from: expected a date"),
        ({"report_types": ["inspection"]}, "'inspection' is not a report type"),
        ({"shown": [{"published": 2024}]}, r"state.shown\[0\].published: expected a date"),
        ({"published_from": "2024-02-01", "published_to": "2024-01-01"}, "after"),
    ],
)
def test_a_malformed_state_says_which_field(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TurnState.from_json(value)



def test_names_shorthand_needs_the_phrase_not_its_words_scattered() -> None:
    asked = split_expansion(expand_terms("young carers"))[1]
    assert names_shorthand(asked, ["Children who are young carers value the support that they receive."])
    # "young" and "carers" in different places are not young carers (before: Hampshire's care leavers were quoted)
    assert not names_shorthand(asked, ["Young people are well supported. Care leavers remain with their carers after 18."])
    front_door = split_expansion(expand_terms("the front door"))[1]
    assert names_shorthand(front_door, ["Contacts are screened in the multi-agency safeguarding hub."])  # a meaning
    assert not names_shorthand(front_door, ["The multi-agency safeguarding partnership meets monthly."])


@pytest.mark.parametrize(
    ("question", "topic_words"),
    [
        ("What did Camden's report say about care leavers, in three bullet points?", {"care", "leavers"}),
        ("Explain in plain English what inspectors said about Trafford's front door", {"front", "door"}),
        ("Briefly, what did inspectors find about Islington's private fostering?", {"private", "fostering"}),
        ("Which reports mention county lines?", {"county", "lines"}),  # "lines" here is the subject
    ],
)
def test_how_to_set_out_the_answer_is_not_searched_for(gazetteer: Gazetteer, question: str, topic_words: set[str]) -> None:
    """"In three bullet points" says how to answer: searched for, it made "summarise the Islington report in three
    bullet points" a search for bullet points, which it refused."""
    plan = plan_query(question, (), None, gazetteer)
    words = set(re.findall(r"\w+", plan.topic.lower()))
    assert topic_words <= words
    assert not words & {"bullet", "points", "plain", "english", "briefly"}


@pytest.mark.parametrize(
    ("question", "count", "topic_word"),
    [
        ("What were Birmingham's judgements in its last two inspections?", 2, "judgements"),
        ("What did Sandwell's three most recent reports say about care leavers?", 3, "leavers"),
        ("How has Leeds changed over its last 3 inspections?", 3, "changed"),
        ("What did the last inspection say about care leavers?", 0, "leavers"),  # the latest alone
    ],
)
def test_the_last_n_reports(gazetteer: Gazetteer, question: str, count: int, topic_word: str) -> None:
    plan = plan_query(question, (), None, gazetteer)
    assert plan.latest_count == count and plan.latest is (count == 0)
    assert topic_word in plan.topic and not re.search(r"\b(?:two|three|3)\b", plan.topic)
