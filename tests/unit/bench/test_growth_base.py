"""The generated knowledge bases of `make bench-growth`: the seed base at 77, and larger
bases of distinct entries whose questions name their product (so they stay separable)."""

from __future__ import annotations

from bench.growth import PRODUCTS, knowledge_base
from twinteller.knowledge.schema import seed_faqs


def test_77_is_the_seed_base() -> None:
    base, held_out = knowledge_base(77, 8)
    assert [f.id for f in base] == [f.id for f in seed_faqs()]
    assert held_out == []


def test_a_larger_base_has_distinct_entries_each_naming_its_product() -> None:
    base, _ = knowledge_base(1000, 8)
    assert len({f.id for f in base}) == 1000
    for faq in base:
        product = faq.title.rsplit("(", 1)[1].rstrip(")")
        assert product in PRODUCTS
        assert len(faq.questions) == 8
        assert all(q.endswith(f"for my {product}") for q in faq.questions)


def test_5000_entries_fit_the_products() -> None:
    assert len({f.id for f in knowledge_base(5000, 4)[0]}) == 5000


def test_held_out_questions_are_not_training_questions_and_name_their_entrys_product() -> None:
    base, held_out = knowledge_base(1000, 8)
    by_id = {f.id: f for f in base}
    assert 900 <= len(held_out) <= 1000
    for question, faq_id in held_out:
        assert question not in by_id[faq_id].questions
        assert question.endswith(f"for my {by_id[faq_id].title.rsplit('(', 1)[1].rstrip(')')}")
