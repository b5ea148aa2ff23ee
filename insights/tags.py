"""Each cluster's tag: a short name a knowledge manager reads at a glance ("credit score",
"信用卡積分"), in the language most of its members were written in.

A tag is made of the cluster's two most distinctive words: words (English, stop words
aside) or jieba's words (Chinese, the segmentation the model's n-grams use), scored by how
many of the cluster's members use them times how few other clusters do (class-based
TF-IDF). Each is kept in the phrase most of its users say it in ("standing order"), and
they stand in the order customers put them. A phrase, or a second word, must be said by
more than one member (the second word by a fifth of them). Chinese tags are written in the
cluster's script (OpenCC).

The worker keeps a cluster's tag while the cluster lives (its id is stable as it grows) and
the tag still `fits` it, so a tag does not change under a knowledge manager's eyes; a new
cluster gets a new one, and so does one that grew away from its first few members' words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import pairwise

from insights.clustering import _STOP
from twinteller.knowledge.languages import EN, HANS, HANT, convert, detect, to_simplified
from twinteller.model.intent_model import words

_LATIN_WORD = re.compile(r"[a-z][a-z']+")
# Words that ask rather than name (jieba's segmentation of "我張卡點樣..."):
_CHINESE_STOP = frozenset(
    "我 你 的 了 嗎 吗 呢 是 有 可以 怎麼 怎么 點樣 我個 我張 請問 请问 想 要 會 会 咗 嘅 唔 係 啲 㗎 喎 點 幾".split()
)
PHRASE_SHARE = 0.6  # a word is kept in a phrase that this share of its users say
MAX_CHARS = 32
KEEP_SHARE = 0.5  # a tag is kept while at least this share of the members use its words
SECOND_SHARE = 0.2  # a second word joins the tag when at least this share of the members say it


def language(texts: list[str], recorded: list[str]) -> str:
    """The language most members were answered in (recorded by the router), else read off
    the text; English when nothing says."""
    found = Counter((r if r in (EN, HANT, HANS) else detect(t) or "") for t, r in zip(texts, recorded, strict=True))
    found.pop("", None)
    found.pop("zh", None)
    return found.most_common(1)[0][0] if found else EN


def _naming(word: str, chinese: bool) -> bool:
    """Whether `word` can name a need (not a word that asks, not punctuation)."""
    if chinese:
        return not word.isascii() and word not in _CHINESE_STOP and len(word) >= 2
    return word not in _STOP


def _phrases(text: str, chinese: bool) -> tuple[set[str], set[tuple[str, ...]]]:
    """The words of `text` that can name a need, and the pairs of them side by side."""
    tokens = words(text) if chinese else _LATIN_WORD.findall(text.lower())
    named = [(w, _naming(w, chinese)) for w in tokens]
    pairs: set[tuple[str, ...]] = {(a, b) for (a, ok_a), (b, ok_b) in pairwise(named) if ok_a and ok_b}
    return {w for w, ok in named if ok}, pairs


def tags(clusters: dict[str, list[str]], languages: dict[str, str]) -> dict[str, str]:
    """`clusters`: each cluster's member texts; `languages`: each cluster's language. A tag
    for each cluster ("" when no member has a word that can name it)."""
    singles: dict[str, Counter[str]] = {}
    pairs: dict[str, Counter[tuple[str, ...]]] = {}
    for cid, texts in clusters.items():
        singles[cid], pairs[cid] = Counter(), Counter()
        for text in texts:
            one, two = _phrases(text, languages[cid] != EN)
            singles[cid].update(one)
            pairs[cid].update(two)
    spread = Counter(term for bag in singles.values() for term in bag)
    k = len(clusters)
    out = {}
    for cid, bag in singles.items():
        chinese = languages[cid] != EN
        ranked = sorted(bag, key=lambda t: (-bag[t] * math.log(1 + k / spread[t]), t))
        if not ranked:
            out[cid] = ""
            continue
        joiner = "" if chinese else " "
        # The two most distinctive words (two clusters may share the first: "standing
        # order"), each in the phrase most of its users say it in, in customers' order.
        # A phrase is said by at least two members, and shares no word with one chosen before.
        chosen: list[tuple[str, ...]] = []
        used: set[str] = set()
        said = pairs[cid]
        for word in ranked:
            if len(chosen) == 2:
                break
            if word in used or (chosen and bag[word] < max(2.0, SECOND_SHARE * len(clusters[cid]))):
                continue  # the second word, too, is said by more than one member
            least = max(2.0, PHRASE_SHARE * bag[word])
            beside = [p for p in said if word in p and not (set(p) - {word}) & used and said[p] >= least]
            chosen.append(max(beside, key=lambda p: (said[p], p)) if beside else (word,))
            used |= set(chosen[-1])
        chosen.sort(key=lambda phrase: _position(clusters[cid], phrase[0]))
        tag = joiner.join(joiner.join(phrase) for phrase in chosen)
        out[cid] = (convert(tag, languages[cid]) if chinese else tag)[:MAX_CHARS]
    return out


def _position(texts: list[str], term: str) -> float:
    """Where `term` stands in the texts that use it, on average (as a share of the text)."""
    places = [t.lower().index(term) / len(t) for t in texts if term in t.lower()]
    return sum(places) / len(places) if places else 1.0


def fits(tag: str, texts: list[str]) -> bool:
    """Whether `tag` still names the cluster of `texts`: each of its words (English) or one of
    its character pairs (Chinese, read in simplified script as members are recorded) in at
    least KEEP_SHARE of them."""
    lowered = [to_simplified(t.lower()) for t in texts]
    if not tag or not lowered:
        return False
    if tag.isascii():
        return all(sum(w in t for t in lowered) >= KEEP_SHARE * len(lowered) for w in tag.lower().split())
    simple = to_simplified(tag)
    pairs = {simple[i : i + 2] for i in range(len(simple) - 1)}
    return sum(any(p in t for p in pairs) for t in lowered) >= KEEP_SHARE * len(lowered)
