"""Which importer reads an export: named (`--format`), or told by the content (each
importer's `detect`, in an order where the more specific export is tried first: a
Dialogflow CX package also has an agent.json, so CX comes before ES)."""

from __future__ import annotations

from collections.abc import Callable

from twinteller.errors import InvalidArgument
from twinteller.platforms import aiml, dialogflow, dialogflow_cx, lex, qna, rasa
from twinteller.platforms.mapping import PLATFORMS, Converted, Export

Importer = tuple[Callable[[Export], bool], Callable[[Export], Converted]]
IMPORTERS: dict[str, Importer] = {
    "dialogflow-cx": (dialogflow_cx.detect, dialogflow_cx.convert),
    "dialogflow-es": (dialogflow.detect, dialogflow.convert),
    "lex-v2": (lex.detect, lex.convert),
    "rasa": (rasa.detect, rasa.convert),
    "qna": (qna.detect, qna.convert),
    "aiml": (aiml.detect, aiml.convert),
}
assert set(IMPORTERS) == set(PLATFORMS)


def detect(export: Export) -> str:
    for platform, (looks_like, _) in IMPORTERS.items():
        if looks_like(export):
            return platform
    shown = ", ".join(sorted(export.files)[:5])
    raise InvalidArgument(
        f"format: not an export twinteller can tell ({shown}); give --format, one of {', '.join(PLATFORMS)}"
    )


def convert(export: Export, platform: str = "") -> Converted:
    """The export converted by the named importer, or the one its content tells (the
    report says which, and that it was detected)."""
    if platform and platform not in IMPORTERS:
        raise InvalidArgument(f"platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    chosen = platform or detect(export)
    converted = IMPORTERS[chosen][1](export)
    converted.report.detected = not platform
    return converted
