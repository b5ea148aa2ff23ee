"""The generated knowledge bases of `make bench-growth`: the seed base at 77, and larger
bases of distinct entries whose questions name their product (so they stay separable)."""

from __future__ import annotations

from bench.growth import PRODUCTS, knowledge_base
from twinteller.knowledge.schema import seed_faqs


def test_77_is_the_seed_base() -> None:
    assert [f.id for f in knowledge_base(77, 8)] == [f.id for f in seed_faqs()]


def test_a_larger_base_has_distinct_entries_each_naming_its_product() -> None:
    base = knowledge_base(1000, 8)
    assert len({f.id for f in base}) == 1000
    for faq in base:
        product = faq.title.rsplit("(", 1)[1].rstrip(")")
        assert product in PRODUCTS
        assert len(faq.questions) == 8
        assert all(q.endswith(f"for my {product}") for q in faq.questions)


def test_5000_entries_fit_the_products() -> None:
    assert len({f.id for f in knowledge_base(5000, 4)}) == 5000
