"""AIML 1.0 and 2.0 (report platform "aiml"): categories grouped by the answer they give
become FAQ entries (twinteller/platforms/mapping.py).

An export is one .aiml file or a folder or zip of them; an XML file of another name is read
when its root is <aiml>. Files are read in path order, categories in document order, so
the same export always gives the same entries, ids and report.

How AIML maps:

- A category whose template is static text is an *answering* category; a category whose
  template is only `<srai>X</srai>` is a *reduction*: X is matched against the patterns as
  an AIML interpreter would (the wildcards `#`, `_`, words, `<set>`, `^`, `*` in AIML 2.0's
  order, `$` priority words first; case and sentence punctuation ignored; Chinese matched
  character by character, with or without spaces), chains are followed to the answering
  category, and the reduction's pattern becomes one more training question of that
  category's FAQ. An `<srai>` inside other text is replaced by its target's answer.
- One FAQ per group (an answering category and every reduction that ends at it): id
  `Ids().of(pattern)` of the answering category, title its pattern lowercased without
  wildcards, questions every pattern of the group (answering first, then reductions in
  file and line order) lowercased, answer the template text with whitespace collapsed and
  `<br/>` as a line break, tags ["imported:aiml"].
- Patterns: `^` and `#` (zero or more words) are dropped silently, since the words alone
  are an input the pattern matches; `*`, `_` (one or more words) and a pattern `<set>`
  (its words are in sets/*.txt, not read) are dropped with a report line "wildcard dropped".
  A pattern of wildcards only, or with more of those than words, is no training question
  and is left out; so is one naming a bot property (`<bot name="x"/>`): its words are not
  in the export. Spaces between Chinese characters are removed.
- `<random>`: the first `<li>` is the answer; each other one is reported as left out.
- HTML formatting (b, i, em, strong, span, p, a, ul/ol) keeps its text (a link keeps its
  address in brackets); uppercase/lowercase/formal/sentence are applied to static text.
- Left out with the reason and the file and line, never imported: a category with a
  `<that>` or `<topic>` (other than `*`: twinteller keeps no conversation context, even
  where the same pattern also exists without one: that one is imported by itself); one
  whose answer depends on the conversation (`<star/>`, `<sr/>`, `<that/>`, `<input/>`,
  `<condition>`, `<set>`, `<get>`, `<think>`, `<bot>`, `<date/>`, `<learn>`, `<system>`,
  `<javascript>`, `<sraix>`, `<person>`, any tag twinteller has no equivalent for); a
  reduction whose target is left out, or that only reaches categories with a context; a
  second category with the same pattern (the first is kept); a group with no usable
  question or an answer over faqs.MAX_ANSWER_BYTES; a question given twice in a group;
  files that are not AIML (sets, maps, properties).
- Malformed (SourceError naming the file and "line N"): not well-formed XML, a DTD entity
  declaration or external entity (refused while parsing: no "billion laughs"), a root other
  than <aiml>, a category without a pattern or template, or with two, an empty pattern,
  a `<topic>` wrapper without a name, an empty `<srai>`, an `<srai>` whose text matches no
  category at all (checked in every template, except inside `<learn>`, whose categories
  appear at run time), an srai cycle, srai reductions nested deeper than MAX_SRAI_DEPTH, and
  elements nested deeper than MAX_NESTING.

Counts (present / imported): "categories" (imported: answering categories of the entries
and reductions whose pattern became a question), "patterns" (one per category / the
questions of the entries), "srai" (categories whose template uses <srai> or <sr/>),
"that" and "topic" (categories with that context; never imported), "conditions"
(categories whose template uses <condition>; never imported), "groups" (groups formed /
entries made).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from twinteller.errors import InvalidArgument
from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.platforms.mapping import Converted, Export, Ids, Omission, Report, SourceError

PLATFORM = "aiml"
TAGS = ("imported:aiml",)
KINDS = ("categories", "patterns", "srai", "that", "topic", "conditions", "groups")
MAX_NESTING = 100  # elements inside one another
MAX_SRAI_DEPTH = 32  # categories whose answer waits on another's
_SNIFF = 4096  # bytes read to tell an XML file's root

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_PIECES = re.compile(rf"[{_CJK}]|[^{_CJK}]+")
_PUNCTUATION = ".,!?;:\"'()。，！？；：、（）「」『』“”‘’…"
_WS = re.compile(r"\s+")
_ROOT = re.compile(
    r"\A\s*(?:<\?xml.*?\?>\s*)?(?:(?:<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>|<\?.*?\?>)\s*)*"
    r"<(?:[\w.-]+:)?aiml[\s/>]",
    re.DOTALL,
)

_ZERO = ("#", "^")  # zero or more words
_ONE = ("_", "*")  # one or more words
_INLINE = {"b", "i", "u", "em", "strong", "span", "font", "small", "big", "sub", "sup", "tt", "code"}
_BLOCK = {"p", "div"}
_LISTS = {"ul", "ol"}
_CASE = {"uppercase", "lowercase", "formal", "sentence"}
_NOT_READ = {"learn", "learnf", "eval"}  # categories taught at run time: their srai may name them
_WHY: dict[str, str] = {
    "star": "the answer repeats the customer's words",
    "thatstar": "the answer repeats words of the bot's last reply",
    "topicstar": "the answer repeats words of the conversation's topic",
    "sr": "it reduces the customer's words to another category, so the answer depends on them",
    "that": "the answer repeats the bot's last reply",
    "input": "the answer repeats what the customer said before",
    "request": "the answer repeats what the customer said before",
    "response": "the answer repeats what the bot said before",
    "condition": "the answer depends on conversation variables",
    "set": "it sets a conversation variable",
    "get": "the answer reads a conversation variable",
    "think": "it sets conversation variables",
    "bot": "the answer reads a bot property, whose value is not in the export",
    "name": "the answer reads the bot's name, which is not in the export",
    "date": "the answer depends on the date and time",
    "interval": "the answer depends on the date and time",
    "size": "the answer reports the interpreter's state",
    "version": "the answer reports the interpreter's state",
    "id": "the answer reports the interpreter's state",
    "vocabulary": "the answer reports the interpreter's state",
    "program": "the answer reports the interpreter's state",
    "learn": "it teaches the bot new categories during the conversation",
    "learnf": "it teaches the bot new categories during the conversation",
    "eval": "it teaches the bot new categories during the conversation",
    "system": "it runs a command on the bot's server",
    "javascript": "it runs code on the bot's server",
    "sraix": "it asks another bot or service",
    "oob": "it sends a command to the client app",
    "person": "the answer swaps pronouns at run time",
    "person2": "the answer swaps pronouns at run time",
    "gender": "the answer swaps pronouns at run time",
    "map": "the answer looks words up in a map, which is not read",
}
_GENERIC = "which twinteller has no equivalent for: it answers with static text"


def detect(export: Export) -> bool:
    """An .aiml file, or an XML file whose root is <aiml>."""
    return any(_is_aiml(name, raw) for name, raw in export.files.items())


def convert(export: Export) -> Converted:
    return _Converter(export).run()


# -- the parsed files -----------------------------------------------------------------------


@dataclass
class _El:
    """An element, its namespace dropped, with the line it starts on and its content in order."""

    tag: str
    attrib: dict[str, str]
    line: int
    content: list[_El | str] = field(default_factory=list)

    def elements(self) -> list[_El]:
        return [c for c in self.content if isinstance(c, _El)]

    def walk(self) -> Iterator[_El]:
        """Every element inside, depth first, in document order."""
        for child in self.elements():
            yield child
            yield from child.walk()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.content)

    def plain(self) -> str:
        return " ".join(self.text().split())

    def shown(self) -> str:
        return f"<{self.tag}>" if self.content else f"<{self.tag}/>"


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _Builder:
    """The parser's target: _El nodes with their line numbers."""

    def __init__(self) -> None:
        self.expat: Any = None
        self.stack: list[_El] = []
        self.root: _El | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        element = _El(_local(tag), {_local(k): v for k, v in attrib.items()}, self.expat.CurrentLineNumber)
        if len(self.stack) >= MAX_NESTING:
            raise _TooDeep(element.line)
        if self.stack:
            self.stack[-1].content.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            content = self.stack[-1].content
            if content and isinstance(content[-1], str):
                content[-1] += text
            else:
                content.append(text)

    def close(self) -> _El | None:
        return self.root


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _parse(name: str, raw: bytes) -> _El:
    """The file's root element. The XML goes through defusedxml: an entity declaration or an
    external entity is refused before anything is expanded."""
    builder = _Builder()
    parser = DefusedXMLParser(target=builder)
    builder.expat = parser.parser
    try:
        parser.feed(raw)
        root = parser.close()
    except ParseError as e:
        line, column = e.position
        raise SourceError(
            name, f"line {line} column {column + 1}", f"not well-formed XML: {expat.ErrorString(e.code)}"
        ) from None
    except DefusedXmlException as e:
        raise SourceError(
            name,
            f"line {builder.expat.CurrentLineNumber}",
            f"DTD/entities not allowed ({type(e).__name__}): an AIML file declares no entities",
        ) from None
    except _TooDeep as e:
        raise SourceError(name, f"line {e.line}", f"elements nested deeper than {MAX_NESTING}") from None
    assert isinstance(root, _El)
    return root


def _junk(name: str) -> bool:
    """A zip's macOS metadata ("__MACOSX/...", "._x.aiml"): not the bot's files."""
    parts = name.split("/")
    return "__MACOSX" in parts[:-1] or parts[-1].startswith("._")


def _is_aiml(name: str, raw: bytes) -> bool:
    if _junk(name):
        return False
    if name.lower().endswith(".aiml"):
        return True
    head = raw[:_SNIFF].decode("utf-8", "ignore").lstrip("\ufeff")
    return bool(_ROOT.match(head))


# -- categories and patterns ------------------------------------------------------------------

# A pattern token: (kind, source text). Kinds: "word", "priority" ($WORD), "zero" (# ^),
# "one" (_ *), "set" (<set>NAME</set>), "property" (<bot name="x"/>), "other" (any other tag).
_Token = tuple[str, str]
# A path through the matcher: ("$", WORD), ("w", WORD), (wildcard, ""), ("set", NAME), ("x", tag).
_Key = tuple[str, str]


@dataclass(eq=False)
class _Category:
    index: int
    file: str
    line: int
    tokens: tuple[_Token, ...]
    that: str | None  # None: any (missing, empty or "*")
    topic: str | None
    template: _El
    uses: frozenset[str]  # every tag inside the template

    @property
    def where(self) -> str:
        return f"{self.file}: line {self.line}"

    @cached_property
    def key(self) -> str:
        """The pattern as AIML shows it: uppercase, single spaces."""
        shown = []
        for kind, value in self.tokens:
            if kind == "set":
                shown.append(f"<set>{value.upper()}</set>")
            elif kind in ("word", "priority"):
                shown.append(("$" if kind == "priority" else "") + value.upper())
            else:
                shown.append(value)
        return " ".join(shown)

    @cached_property
    def path(self) -> tuple[_Key, ...]:
        keys: list[_Key] = []
        for kind, value in self.tokens:
            if kind in ("word", "priority"):
                for n, piece in enumerate(_pieces(value)):
                    keys.append(("$" if kind == "priority" and n == 0 else "w", piece))
            elif kind in ("zero", "one"):
                keys.append((value, ""))
            elif kind == "set":
                keys.append(("set", value.upper()))
            else:
                keys.append(("x", value))
        return tuple(keys)

    @property
    def srai(self) -> bool:
        return bool(self.uses & {"srai", "sr"})


def _pieces(word: str) -> list[str]:
    """A word as the matcher sees it: uppercase, without sentence punctuation around it,
    each Chinese (Japanese) character on its own."""
    pieces = (p.strip(_PUNCTUATION) for p in _PIECES.findall(word.upper()))
    return [p for p in pieces if p]


def _words(text: str) -> list[str]:
    return [piece for word in text.split() for piece in _pieces(word)]


def _pattern(element: _El) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    for item in element.content:
        if isinstance(item, str):
            for word in item.split():
                if word in _ZERO:
                    tokens.append(("zero", word))
                elif word in _ONE:
                    tokens.append(("one", word))
                elif word.startswith("$") and len(word) > 1:
                    tokens.append(("priority", word[1:]))
                else:
                    tokens.append(("word", word))
        elif item.tag == "set":
            tokens.append(("set", (item.attrib.get("name") or item.plain()).strip()))
        elif item.tag in ("bot", "name"):
            tokens.append(("property", f'<bot name="{item.attrib.get("name", "name")}"/>'))
        else:
            tokens.append(("other", item.shown()))
    return tuple(tokens)


def _context(value: str | None) -> str | None:
    """A <that> or <topic> pattern, uppercase; None when it allows anything."""
    value = " ".join((value or "").split()).upper()
    return None if value in ("", "*") else value


def _shown(element: _El) -> str:
    return " ".join(value for _, value in _pattern(element))


def _humanised(tokens: tuple[_Token, ...]) -> str:
    words = [value for kind, value in tokens if kind in ("word", "priority")]
    return _CJK_GAP.sub("", " ".join(words).lower())


def _question(tokens: tuple[_Token, ...]) -> tuple[str | None, str]:
    """(the training question, a note on what was dropped) or (None, why there is none)."""
    named = [value for kind, value in tokens if kind in ("property", "other")]
    if named:
        return None, f"the pattern holds {named[0]}, whose words are not in the export"
    words = [value for kind, value in tokens if kind in ("word", "priority")]
    loose = [value if kind == "one" else f"<set>{value}</set>" for kind, value in tokens if kind in ("one", "set")]
    if not words:
        return None, "only wildcards: it matches any words, so it is no question to train on"
    if len(loose) > len(words):
        return (
            None,
            f"mostly wildcards ({len(loose)} of {len(loose) + len(words)} words): too little of the question is known",
        )
    question = _humanised(tokens)
    size = len(question.encode())
    if size > faqs.MAX_QUESTION_BYTES:
        return None, f"{size} bytes, a question holds at most {faqs.MAX_QUESTION_BYTES}"
    note = ""
    if loose:
        note = (
            f"wildcard dropped: {', '.join(loose)} stands for words the customer adds; "
            f"the training question keeps the pattern's words '{question}'"
        )
    return question, note


def _title(question: str) -> str:
    raw = question.encode()
    if len(raw) <= faqs.MAX_TITLE:
        return question
    return raw[: faqs.MAX_TITLE - 3].decode("utf-8", "ignore").rstrip() + "..."


# -- matching srai text against patterns ----------------------------------------------------


class _Node:
    __slots__ = ("category", "children", "wildcards")

    def __init__(self) -> None:
        self.children: dict[_Key, _Node] = {}  # words, $words, tags
        self.wildcards: dict[_Key, _Node] = {}  # wildcards and <set>s
        self.category: _Category | None = None

    def child(self, key: _Key) -> _Node:
        children = self.wildcards if key[0] in ("#", "_", "^", "*", "set") else self.children
        if key not in children:
            children[key] = _Node()
        return children[key]


class _Patterns:
    """The AIML "graphmaster": patterns as a tree of words and wildcards."""

    def __init__(self) -> None:
        self.root = _Node()

    def add(self, category: _Category) -> _Category | None:
        """Adds the category; the one already there with the same pattern, if any, stays."""
        node = self.root
        for key in category.path:
            node = node.child(key)
        if node.category is not None:
            return node.category
        node.category = category
        return None

    def exact(self, path: tuple[_Key, ...]) -> _Category | None:
        node: _Node | None = self.root
        for key in path:
            node = (node.children.get(key) or node.wildcards.get(key)) if node is not None else None
        return node.category if node is not None else None

    def match(self, words: list[str]) -> _Category | None:
        """The category an interpreter answers `words` with: depth first, trying at each
        word `$word`, `#`, `_`, the word, `<set>`s, `^`, `*` in that order (AIML 2.0); a
        wildcard takes as few words as it can. A `<set>` takes any words (its members are
        not in the export)."""
        n = len(words)
        stack: list[tuple[_Node, int]] = [(self.root, 0)]
        tried: set[tuple[int, int]] = set()
        while stack:
            node, i = stack.pop()
            if (id(node), i) in tried:  # it failed before: the same words are left
                continue
            tried.add((id(node), i))
            if i == n and node.category is not None:
                return node.category
            word = words[i] if i < n else ""  # no path holds an empty word
            children, wild = node.children, node.wildcards
            ordered: list[tuple[_Node | None, int]] = [  # (child, the fewest words it takes; -1: one word)
                (children.get(("$", word)), -1),
                (wild.get(("#", "")), 0),
                (wild.get(("_", "")), 1),
                (children.get(("w", word)), -1),
                *((wild[key], 1) for key in sorted(k for k in wild if k[0] == "set")),
                (wild.get(("^", "")), 0),
                (wild.get(("*", "")), 1),
            ]
            steps: list[tuple[_Node, int]] = []
            for child, least in ordered:
                if child is None:
                    continue
                if least < 0:
                    steps.append((child, i + 1))
                else:  # a wildcard: as few words as it can first
                    steps.extend((child, j) for j in range(i + least, n + 1))
            stack.extend(reversed(steps))
        return None


# -- turning templates into answers ----------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    text: str
    alternatives: tuple[tuple[int, str], ...]  # <random> items left out: (line, text)


@dataclass(frozen=True)
class _Reduction:
    final: _Category  # the answering category the srai chain ends at


@dataclass(frozen=True)
class _Left:
    reason: str


_Outcome = _Answer | _Reduction | _Left


class _Unsupported(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _normalised(text: str) -> str:
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return _CJK_GAP.sub("", text).strip()


def _cased(tag: str, text: str) -> str:
    if tag == "uppercase":
        return text.upper()
    if tag == "lowercase":
        return text.lower()
    if tag == "formal":
        return re.sub(r"(^|\s)(\S)", lambda m: m[1] + m[2].upper(), text)
    return re.sub(r"^(\s*)(\S)", lambda m: m[1] + m[2].upper(), text)  # sentence


def _only_srai(template: _El) -> _El | None:
    """The <srai> a template is made of, if it is nothing else."""
    elements = template.elements()
    text = "".join(c for c in template.content if isinstance(c, str))
    if len(elements) == 1 and elements[0].tag == "srai" and not text.strip():
        return elements[0]
    return None


class _Converter:
    def __init__(self, export: Export) -> None:
        self.export = export
        self.report = Report(PLATFORM)
        self.categories: list[_Category] = []
        self.every = _Patterns()  # every category: does an srai name anything at all
        self.free = _Patterns()  # categories without a context, the first of each pattern
        self.outcomes: dict[int, _Outcome] = {}
        self.evaluating: list[_Category] = []
        self.rank: dict[str, int] = {name: n for n, name in enumerate(sorted(export.files))}
        self.omissions: list[tuple[int, int, int, Omission]] = []
        self.imported: set[int] = set()  # categories that came across
        self.questions = 0  # training questions made

    def omit(self, file: str, line: int, what: str, reason: str) -> None:
        where = f"{file}: line {line}" if line else file
        self.omissions.append((self.rank[file], line, len(self.omissions), Omission(where, what, reason)))

    # -- reading

    def run(self) -> Converted:
        names = sorted(self.export.files)
        read = [name for name in names if _is_aiml(name, self.export.files[name])]
        if not read:
            raise SourceError("export", "", "no AIML: no .aiml file, nor an XML file whose root is <aiml>")
        for name in names:
            if name not in read:
                self.omit(name, 0, "file", "not AIML: only .aiml files and XML files with an <aiml> root are read")
        for name in read:
            self.read(name, _parse(name, self.export.files[name]))
        contextual = {c.index for c in self.categories if c.that is not None or c.topic is not None}
        duplicates: dict[int, _Category] = {}
        for category in self.categories:
            self.every.add(category)
            if category.that is None and category.topic is None:
                first = self.free.add(category)
                if first is not None:
                    duplicates[category.index] = first
        for category in self.categories:
            self.check_srai(category)
        for index in sorted(contextual):
            self.omit_contextual(self.categories[index])
        for index, first in duplicates.items():
            category = self.categories[index]
            reason = f"the same pattern as {first.where}: a bot answers it from one category; the first is kept"
            self.omit(category.file, category.line, f"category '{category.key}'", reason)
        answering = [c for c in self.categories if c.index not in contextual and c.index not in duplicates]
        groups: dict[int, list[_Category]] = {}
        for category in answering:
            try:
                outcome = self.outcome(category)
            except RecursionError:
                raise SourceError(category.file, f"line {category.line}", "srai reductions nested too deeply") from None
            if isinstance(outcome, _Left):
                self.omit(category.file, category.line, f"category '{category.key}'", outcome.reason)
            elif isinstance(outcome, _Reduction):
                groups.setdefault(outcome.final.index, []).append(category)
            else:
                groups.setdefault(category.index, [])
        records = self.records(groups)
        self.count(records, groups)
        for *_, omission in sorted(self.omissions, key=lambda o: o[:3]):
            self.report.omitted.append(omission)
        return Converted(records, [], self.report)

    def read(self, name: str, root: _El) -> None:
        if root.tag != "aiml":
            raise SourceError(name, f"line {root.line}", f"the root element is <{root.tag}>, not <aiml>")
        for child in root.elements():
            if child.tag == "category":
                self.add(name, child, None)
            elif child.tag == "topic":
                topic = child.attrib.get("name", "")
                if not topic.strip():
                    raise SourceError(name, f"line {child.line}", "a <topic> around categories without a name")
                for item in child.elements():
                    if item.tag == "category":
                        self.add(name, item, topic)
                    else:
                        self.omit(name, item.line, f"<{item.tag}>", "not a category: only categories are imported")
            else:
                self.omit(name, child.line, f"<{child.tag}>", "not a category: only categories are imported")

    def add(self, name: str, element: _El, topic: str | None) -> None:
        parts: dict[str, _El] = {}
        for item in element.elements():
            if item.tag in ("pattern", "that", "topic", "template"):
                if item.tag in parts:
                    raise SourceError(name, f"line {item.line}", f"a category with a second <{item.tag}>")
                parts[item.tag] = item
            else:
                self.omit(name, item.line, f"<{item.tag}> in a category", "not part of an AIML category: ignored")
        for needed in ("pattern", "template"):
            if needed not in parts:
                raise SourceError(name, f"line {element.line}", f"a category without a <{needed}>")
        tokens = _pattern(parts["pattern"])
        if not tokens:
            raise SourceError(name, f"line {parts['pattern'].line}", "an empty <pattern>")
        that, own_topic = parts.get("that"), parts.get("topic")
        self.categories.append(
            _Category(
                index=len(self.categories),
                file=name,
                line=element.line,
                tokens=tokens,
                that=_context(_shown(that)) if that is not None else None,
                topic=_context(_shown(own_topic) if own_topic is not None else topic),
                template=parts["template"],
                uses=frozenset(e.tag for e in parts["template"].walk()),
            )
        )

    def check_srai(self, category: _Category) -> None:
        """Every <srai> of plain text names some category (with or without a context)."""

        def srais(element: _El) -> Iterator[_El]:
            for child in element.elements():
                if child.tag in _NOT_READ:
                    continue
                if child.tag == "srai":
                    yield child
                yield from srais(child)

        for srai in srais(category.template):
            if not srai.elements():
                self.target_words(category, srai, srai.plain())

    def target_words(self, category: _Category, srai: _El, text: str) -> list[str]:
        words = _words(text)
        if not words:
            raise SourceError(category.file, f"line {srai.line}", "an empty <srai>")
        if self.every.match(words) is None:
            raise SourceError(category.file, f"line {srai.line}", f"srai '{text}' references no category")
        return words

    def omit_contextual(self, category: _Category) -> None:
        context = []
        if category.that is not None:
            context.append(f"after the bot said '{category.that}'")
        if category.topic is not None:
            context.append(f"in topic '{category.topic}'")
        reason = f"answers only {' and '.join(context)}; twinteller keeps no conversation context"
        plain = self.free.exact(category.path)
        if plain is not None:
            reason += f" (the same pattern without a context is at {plain.where})"
        self.omit(category.file, category.line, f"category '{category.key}'", reason)

    # -- answers

    def outcome(self, category: _Category) -> _Outcome:
        if category.index not in self.outcomes:
            self.evaluating.append(category)
            try:
                self.outcomes[category.index] = self.evaluate(category)
            finally:
                self.evaluating.pop()
        return self.outcomes[category.index]

    def evaluate(self, category: _Category) -> _Outcome:
        srai = _only_srai(category.template)
        alternatives: list[tuple[int, str]] = []
        try:
            if srai is not None:
                text = " ".join(self.render(category, srai, alternatives).split())
                target = self.target(category, srai, text)
                outcome = self.outcome(target)
                if isinstance(outcome, _Left):
                    return _Left(f"reduces to '{text}' ({target.where}), which is left out: {outcome.reason}")
                return _Reduction(outcome.final if isinstance(outcome, _Reduction) else target)
            answer = _normalised(self.render(category, category.template, alternatives))
        except _Unsupported as e:
            return _Left(e.reason)
        if not answer:
            return _Left("the template gives no text to answer with")
        return _Answer(answer, tuple(alternatives))

    def target(self, category: _Category, srai: _El, text: str) -> _Category:
        words = self.target_words(category, srai, text)
        target = self.free.match(words)
        if target is None:
            raise _Unsupported(f"srai '{text}' reaches only categories with a <that> or <topic>")
        if target in self.evaluating:
            cycle = [*self.evaluating[self.evaluating.index(target) :], target]
            chain = " -> ".join(f"'{c.key}'" for c in cycle)
            raise SourceError(category.file, f"line {srai.line}", f"srai cycle: {chain}")
        if len(self.evaluating) >= MAX_SRAI_DEPTH:
            raise SourceError(
                category.file, f"line {srai.line}", f"srai reductions nested deeper than {MAX_SRAI_DEPTH}"
            )
        return target

    def render(self, category: _Category, element: _El, alternatives: list[tuple[int, str]]) -> str:
        parts = []
        for item in element.content:
            if isinstance(item, str):
                parts.append(_WS.sub(" ", item))
            else:
                parts.append(self.element(category, item, alternatives))
        return "".join(parts)

    def element(self, category: _Category, element: _El, alternatives: list[tuple[int, str]]) -> str:
        tag = element.tag
        if tag == "br":
            return "\n"
        if tag in _INLINE:
            return self.render(category, element, alternatives)
        if tag in _BLOCK:
            return f"\n\n{self.render(category, element, alternatives)}\n\n"
        if tag in _LISTS:
            items = [self.render(category, li, alternatives).strip() for li in element.elements() if li.tag == "li"]
            return "\n" + "".join(f"\n- {item}" for item in items) + "\n\n"
        if tag == "a":
            inner = self.render(category, element, alternatives)
            href = element.attrib.get("href", "").strip()
            return f"{inner} ({href})" if href and href not in inner else inner
        if tag in _CASE:
            return _cased(tag, self.render(category, element, alternatives))
        if tag == "random":
            answers = [li for li in element.elements() if li.tag == "li"]
            if not answers:
                return ""
            first = self.render(category, answers[0], alternatives)
            alternatives.extend((li.line, li.plain()) for li in answers[1:])
            return first
        if tag == "srai":
            text = " ".join(self.render(category, element, alternatives).split())
            target = self.target(category, element, text)
            outcome = self.outcome(target)
            if isinstance(outcome, _Reduction):
                outcome = self.outcome(outcome.final)
            if isinstance(outcome, _Left):
                raise _Unsupported(f"srai '{text}' reaches {target.where}, which is left out: {outcome.reason}")
            assert isinstance(outcome, _Answer)
            return outcome.text
        raise _Unsupported(f"template uses {element.shown()}: {_WHY.get(tag, _GENERIC)}")

    # -- entries

    def records(self, groups: dict[int, list[_Category]]) -> list[FaqRecord]:
        ids = Ids()
        records = []
        for index in sorted(groups):
            final = self.categories[index]
            answer = self.outcome(final)
            assert isinstance(answer, _Answer)
            members = [final, *groups[index]]
            reductions = len(members) - 1
            group = f"category '{final.key}'" + (
                f" and the {reductions} reduction{'s' * (reductions > 1)} to it" if reductions else ""
            )
            size = len(answer.text.encode())
            if size > faqs.MAX_ANSWER_BYTES:
                self.omit(final.file, final.line, group,
                          f"its answer is {size} bytes, an answer holds at most {faqs.MAX_ANSWER_BYTES}")  # fmt: skip
                continue
            questions: list[str] = []
            first: dict[str, str] = {}
            used: list[_Category] = []
            for member in members:
                question, note = _question(member.tokens)
                if question is None:
                    self.omit(member.file, member.line, f"pattern '{member.key}'", note)
                    continue
                if question in first:
                    self.omit(member.file, member.line, f"pattern '{member.key}'",
                              f"the same question '{question}' as {first[question]}")  # fmt: skip
                    continue
                if len(questions) >= faqs.MAX_QUESTIONS:
                    self.omit(member.file, member.line, f"pattern '{member.key}'",
                              f"the entry has {faqs.MAX_QUESTIONS} questions already, the most it holds")  # fmt: skip
                    continue
                if note:
                    self.omit(member.file, member.line, f"pattern '{member.key}'", note)
                questions.append(question)
                first[question] = member.where
                used.append(member)
            if not questions:
                self.omit(final.file, final.line, group,
                          "no pattern of its group can be a training question")  # fmt: skip
                continue
            record = FaqRecord(
                id=ids.of(final.key),
                title=_title(_humanised(final.tokens) or questions[0]),
                answer=answer.text,
                questions=questions,
                tags=list(TAGS),
            )
            try:
                faqs.validate(record)
            except InvalidArgument as e:
                raise SourceError(final.file, f"line {final.line}", f"cannot become an FAQ entry: {e}") from None
            for line, text in answer.alternatives:
                self.omit(final.file, line, f"answer '{text}'",
                          "<random> picks one of its answers; twinteller gives one, the first")  # fmt: skip
            records.append(record)
            self.imported.update(c.index for c in [final, *used])
            self.questions += len(questions)
        return records

    def count(self, records: list[FaqRecord], groups: dict[int, list[_Category]]) -> None:
        present, imported = self.report.present, self.report.imported
        for kind in KINDS:
            present[kind] += 0
            imported[kind] += 0
        present["categories"] = present["patterns"] = len(self.categories)
        imported["categories"] = len(self.imported)
        imported["patterns"] = self.questions
        present["srai"] = sum(c.srai for c in self.categories)
        imported["srai"] = sum(self.categories[i].srai for i in self.imported)
        present["that"] = sum(c.that is not None for c in self.categories)
        present["topic"] = sum(c.topic is not None for c in self.categories)
        present["conditions"] = sum("condition" in c.uses for c in self.categories)
        present["groups"] = len(groups)
        imported["groups"] = len(records)
