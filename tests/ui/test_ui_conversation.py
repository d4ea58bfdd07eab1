"""A browser session's conversation: each stored answer's state is what its follow-ups read."""

from __future__ import annotations

from core.models import Answer, TurnState
from ui.conversation import Conversation, Exchange


def test_conversation_history_carries_each_answers_state() -> None:
    state = TurnState(authorities=("Trafford",), topic="care leavers", route="passage", listed=("Trafford",))
    answered = Exchange(question="How are care leavers in Altrincham?", answer=Answer(answer="first", refused=False, state=state))
    failed = Exchange(question="And their front door?", error="Sorry")
    assert [turn.state for turn in Conversation([answered, failed]).history()] == [state]


def test_a_follow_up_in_the_conversation_reads_the_earlier_answers_state(sample_index) -> None:
    from chatbot.extractive import ExtractiveAnswerer
    from chatbot.pipeline import QAPipeline

    pipeline = QAPipeline(sample_index, ExtractiveAnswerer(sample_index.embedder))
    question = "How well are care leavers supported in Altrincham?"
    conversation = Conversation([Exchange(question=question, answer=pipeline.ask(question))])
    # "Altrincham" was read as Trafford: the stored answer's state says so, the text of the question does not
    follow_up = pipeline.ask("And what about their front door?", conversation.history())
    assert follow_up.trace["asked"]["authorities"] == ["Trafford"]
    assert follow_up.citations and {c.local_authority for c in follow_up.citations} == {"Trafford"}
