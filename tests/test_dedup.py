"""Dedup: exact and near-duplicate copies are linked to the first article, different reports are not."""

from __future__ import annotations

from storyline.dedup import link_duplicates
from storyline.model import Article

BODY = (
    "Dock workers at the port of Marsaxlokk walked off the job on Wednesday morning, halting the loading of "
    "more than forty container ships. The union said the strike would last until the port authority agreed "
    "to talks on night-shift pay. Shipping agents said the queue of vessels outside the harbour was growing."
)


def test_exact_copy_under_another_id_is_linked_to_the_first() -> None:
    first, copy = Article("wire", "Strike", BODY), Article("reprint", "Strike at port", BODY)
    link_duplicates([first, copy])
    assert (first.duplicate_of, copy.duplicate_of) == (None, "wire")


def test_near_duplicate_with_one_edited_sentence_is_linked() -> None:
    edited = BODY.replace("was growing", "had grown to twelve by noon")
    first, near = Article("a", "Strike", BODY), Article("b", "Port strike", edited)
    link_duplicates([first, near])
    assert near.duplicate_of == "a"


def test_different_reports_of_one_event_stay_separate() -> None:
    other = (
        "Shipping through Marsaxlokk came to a standstill as stevedores began a strike over pay for night work. "
        "Port officials described the walkout as illegal and asked the government to intervene quickly."
    )
    first, second = Article("a", "Strike", BODY), Article("b", "Standstill", other)
    link_duplicates([first, second])
    assert second.duplicate_of is None


def test_chain_of_copies_points_to_the_original() -> None:
    articles = [Article(str(n), "Strike", BODY) for n in range(3)]
    link_duplicates(articles)
    assert [a.duplicate_of for a in articles] == [None, "0", "0"]


def test_a_copy_is_linked_to_an_original_analysed_in_an_earlier_batch_which_stays_as_it_was() -> None:
    # A tracker analyses a few articles at a time: the open events' articles are the earlier ones a copy may
    # repeat, so a syndicated copy is linked whichever batch its original came in.
    original, reprint = Article("wire", "Strike", BODY), Article("earlier-reprint", "Strike", BODY)
    reprint.duplicate_of = "wire"
    edited = BODY.replace("was growing", "had grown to twelve by noon")
    copy, exact, other = Article("late", "Port strike", edited), Article("late-2", "Strike", BODY), Article(
        "report", "Standstill", "Port officials described the walkout as illegal and asked for talks on pay.")
    link_duplicates([copy, exact, other], earlier=[original, reprint])
    assert (copy.duplicate_of, exact.duplicate_of, other.duplicate_of) == ("wire", "wire", None)
    assert (original.duplicate_of, reprint.duplicate_of) == (None, "wire")
