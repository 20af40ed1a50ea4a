"""Generate the embedded ``sentiment_reviews`` corpus from a hand-written grammar.

Every sentence comes from the templates and word lists below, written for kerazoo. The grammar
is built so that the label depends on word order and scope, not only on which words occur:

* ``plain``: one or two clauses whose polarity is that of their adjectives.
* ``negation``: a negator scopes over the adjective and flips it ("was not great" is negative,
  "was never boring" is positive). Every negator is used with both polarities, and every
  adjective appears both plain and negated, so neither word alone gives the label away.
* ``contrast``: two clauses of opposite polarity joined by a connective; the label is the
  polarity of the main clause ("... but B", "although A, B", "B, even though A"). Both clauses
  may themselves be negated.
* ``idiom``: degree and fixed phrases that differ by one function word ("could have been
  better" / "could not have been better", "too salty" / "not too salty", "no complaints" /
  "plenty of complaints").

Intensifiers and diminishers are drawn independently of the label. Output columns are
``text,label,split,phenomenon``; the splits are stratified by (phenomenon, label), 70/15/15.

Reproduce the shipped file (the CSV text is compared, then written gzip'd with mtime 0)::

    python recipes/embedded/generate_sentiment.py            # writes data/sentiment_reviews.csv.gz
    python recipes/embedded/generate_sentiment.py --check    # exit 1 if the file differs
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import random
import sys
from pathlib import Path

SEED = 20261122
LABELS = ("negative", "positive")
SPLIT_FRACTIONS = (("train", 0.70), ("validation", 0.15), ("test", 0.15))
# Examples per (phenomenon, label); the totals are 3,000 examples, 1,500 per label.
TARGETS = {"plain": 550, "negation": 400, "contrast": 400, "idiom": 150}
OUTPUT = Path(__file__).resolve().parent / "data" / "sentiment_reviews.csv.gz"

GENERIC_POSITIVE = (
    "great", "excellent", "wonderful", "fantastic", "superb", "delightful", "impressive",
    "enjoyable", "solid", "lovely", "brilliant", "outstanding", "pleasant", "charming",
    "terrific", "satisfying", "good", "memorable",
)
GENERIC_NEGATIVE = (
    "bad", "terrible", "awful", "dull", "boring", "disappointing", "mediocre", "poor", "bland",
    "forgettable", "tedious", "sloppy", "frustrating", "weak", "dreadful", "annoying", "lousy",
)
# A modifier is drawn for either polarity with the same probability, so it carries no label.
MODIFIERS = (
    "very", "really", "truly", "quite", "pretty", "rather", "genuinely", "remarkably",
    "incredibly", "extremely", "fairly", "somewhat", "a bit", "surprisingly", "mostly",
)
# (negated copula, kind): "was" + "not great"; the same forms serve both polarities.
# Past tense throughout: "did not find" / "never found".
_DO_NOT = ("did not {verb}", "never {past}", "didn't {verb}")
COPULA_NEGATORS = (
    "not", "never", "hardly", "far from", "anything but", "not at all", "not remotely",
    "by no means", "not exactly", "never really",
)

DOMAINS = {
    "movies": {
        "items": ("this movie", "the film", "this sequel", "this documentary", "the show"),
        "aspects": (
            "the acting", "the plot", "the script", "the soundtrack", "the ending", "the dialogue",
            "the cinematography", "the pacing", "the lead actor", "the villain", "the editing",
            "the first half", "the final act", "the humor", "the special effects|p",
            "the characters|p",
        ),
        "positive": ("gripping", "moving", "funny", "clever", "stunning", "tense", "heartfelt"),
        "negative": ("predictable", "confusing", "clumsy", "overlong", "cheesy", "lifeless"),
        "degree": ("long", "loud", "dark", "slow", "sentimental", "violent"),
        "context": (
            "We watched it on a rainy Sunday.", "I saw it in a half empty theater.",
            "My brother picked this one.", "It runs a little over two hours.",
            "I watched it with subtitles.", "We streamed it after dinner.",
        ),
    },
    "restaurants": {
        "items": ("this restaurant", "this place", "the diner", "this cafe", "the bistro"),
        "aspects": (
            "the food", "the service", "the pasta", "the soup", "the dessert", "the staff",
            "the waiter", "the atmosphere", "the coffee", "the menu", "the steak", "the bread",
            "the curry", "the pizza", "the portions|p", "the fries|p",
        ),
        "positive": ("delicious", "fresh", "tasty", "friendly", "attentive", "cozy", "generous"),
        "negative": ("greasy", "stale", "soggy", "rude", "overpriced", "cold", "chaotic"),
        "degree": ("salty", "sweet", "spicy", "loud", "crowded", "expensive", "rich"),
        "context": (
            "We went on a Friday night.", "I came here for a work lunch.",
            "We had a table by the window.", "It was my second visit.",
            "We ordered the tasting menu.", "A friend booked it for my birthday.",
        ),
    },
    "gadgets": {
        "items": ("this phone", "the laptop", "this tablet", "the smartwatch", "this router",
                  "these headphones|p", "the earbuds|p"),
        "aspects": (
            "the battery", "the screen", "the camera", "the keyboard", "the speaker", "the app",
            "the charger", "the build quality", "the touchpad", "the setup", "the sound",
            "the software", "the microphone", "the fingerprint reader", "the buttons|p",
            "the updates|p",
        ),
        "positive": ("fast", "reliable", "sturdy", "responsive", "intuitive", "sleek", "crisp"),
        "negative": ("flimsy", "sluggish", "buggy", "unreliable", "clunky", "laggy", "glitchy"),
        "degree": ("heavy", "bright", "loud", "expensive", "complicated", "bulky", "slow"),
        "context": (
            "I bought it last month.", "It replaced my old model.", "I use it every day for work.",
            "It arrived two days early.", "I got the blue version.", "It was a gift from my sister.",
        ),
    },
    "books": {
        "items": ("this book", "the novel", "this memoir", "the sequel", "this collection"),
        "aspects": (
            "the writing", "the story", "the prose", "the ending", "the middle section",
            "the narrator", "the dialogue", "the world building", "the translation",
            "the opening chapter", "the main character", "the plot", "the characters|p",
            "the descriptions|p",
        ),
        "positive": ("engaging", "insightful", "vivid", "thoughtful", "compelling", "witty",
                     "elegant"),
        "negative": ("shallow", "repetitive", "preachy", "wooden", "dry", "muddled", "clumsy"),
        "degree": ("long", "dense", "slow", "dark", "detailed", "sentimental"),
        "context": (
            "I read it over a long weekend.", "Our book club picked it.",
            "I listened to the audiobook.", "It is the second book in the series.",
            "I borrowed it from the library.", "I read it on a long flight.",
        ),
    },
    "hotels": {
        "items": ("this hotel", "the resort", "this inn", "the hostel", "this apartment"),
        "aspects": (
            "the room", "the bed", "the bathroom", "the staff", "the breakfast", "the location",
            "the pool", "the view", "the check-in", "the lobby", "the wifi", "the shower",
            "the front desk", "the gym", "the towels|p", "the pillows|p",
        ),
        "positive": ("clean", "spacious", "quiet", "comfortable", "welcoming", "convenient",
                     "bright"),
        "negative": ("dirty", "cramped", "noisy", "shabby", "musty", "uncomfortable", "filthy"),
        "degree": ("small", "crowded", "expensive", "hot", "loud", "busy", "far"),
        "context": (
            "We stayed three nights in May.", "I was there for a conference.",
            "We booked it last minute.", "It was our first trip to the city.",
            "We had a room on the fifth floor.", "We arrived late in the evening.",
        ),
    },
    "games": {
        "items": ("this game", "the expansion", "this puzzle game", "the remake", "this shooter"),
        "aspects": (
            "the controls|p", "the combat", "the story", "the graphics|p", "the level design",
            "the multiplayer", "the soundtrack", "the puzzles|p", "the boss fights|p",
            "the tutorial", "the map", "the crafting system", "the voice acting", "the camera",
        ),
        "positive": ("addictive", "polished", "rewarding", "smooth", "inventive", "challenging",
                     "gorgeous"),
        "negative": ("grindy", "unbalanced", "glitchy", "repetitive", "clunky", "tedious",
                     "shallow"),
        "degree": ("hard", "easy", "long", "short", "grindy", "dark"),
        "context": (
            "I played it on the weekend.", "I finished it in about twenty hours.",
            "I played the co-op mode with a friend.", "I bought it on sale.",
            "I played it on a handheld.", "It is my first game in the series.",
        ),
    },
}


def _noun(phrase: str) -> tuple[str, bool]:
    name, _, plural = phrase.partition("|")
    return name, plural == "p"


def _be(plural: bool) -> str:
    return "were" if plural else "was"


class _Grammar:
    """Draws sentences of one polarity from the word lists, with a seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def adjective(self, domain: dict, polarity: str, whole_item: bool) -> str:
        generic = GENERIC_POSITIVE if polarity == "positive" else GENERIC_NEGATIVE
        # Domain words ("greasy", "buggy") fit the whole restaurant or phone but not every part
        # of it ("the wifi was greasy"), so parts take the generic words only.
        if whole_item and self.rng.random() < 0.6:
            return self.rng.choice(domain[polarity])
        return self.rng.choice(generic)

    def subject(self, domain: dict) -> tuple[str, bool, bool]:
        """``(noun phrase, plural, whole_item)``."""
        whole_item = self.rng.random() < 0.3
        name, plural = _noun(self.rng.choice(domain["items" if whole_item else "aspects"]))
        return name, plural, whole_item

    def modified(self, adjective: str) -> str:
        if self.rng.random() < 0.45:
            return f"{self.rng.choice(MODIFIERS)} {adjective}"
        return adjective

    def clause(self, domain: dict, polarity: str, negated: bool, avoid: str = "") -> str:
        """One clause whose meaning has ``polarity``; a negated clause uses the opposite word.

        ``avoid`` is a clause already in the sentence: its subject is not drawn again.
        """
        rng = self.rng
        word_polarity = polarity if not negated else _opposite(polarity)
        subject, plural, whole_item = self.subject(domain)
        while avoid and subject in avoid:
            subject, plural, whole_item = self.subject(domain)
        adjective = self.adjective(domain, word_polarity, whole_item)
        form = rng.randrange(5)
        if not negated:
            adjective = self.modified(adjective)
            if form == 0:
                return f"I found {subject} {adjective}"
            if form == 1:
                return f"{subject} seemed {adjective}"
            if form == 2:
                return f"{subject} felt {adjective}"
            return f"{subject} {_be(plural)} {adjective}"
        if form == 0:
            return f"I {rng.choice(_DO_NOT).format(verb='find', past='found')} {subject} {adjective}"
        if form == 1:
            return f"{subject} {rng.choice(_DO_NOT).format(verb='feel', past='felt')} {adjective}"
        if form == 2:
            contracted = "weren't" if plural else "wasn't"
            return f"{subject} {contracted} {rng.choice(('', 'at all ', 'remotely '))}{adjective}"
        return f"{subject} {_be(plural)} {rng.choice(COPULA_NEGATORS)} {adjective}"

    def idiom(self, domain: dict, polarity: str) -> str:
        rng = self.rng
        subject, plural, _ = self.subject(domain)
        be = _be(plural)
        positive = polarity == "positive"
        form = rng.randrange(7)
        if form == 0:
            modal = rng.choice(("could not", "couldn't")) if positive else "could"
            return f"{subject} {modal} have been better"
        if form == 1:
            degree = rng.choice(domain["degree"])
            if positive:
                return f"{subject} {be} {rng.choice(('not too', 'never too', 'not overly'))} {degree}"
            return f"{subject} {be} {rng.choice(('too', 'way too', 'far too', 'overly'))} {degree}"
        if form == 2:
            amount = rng.choice(("no", "zero")) if positive else rng.choice(("plenty of", "many"))
            return f"I had {amount} complaints about {subject}"
        if form == 3:
            amount = "nothing" if positive else rng.choice(("a lot", "something", "plenty"))
            return f"there was {amount} wrong with {subject}"
        if form == 4:
            adverb = "never" if positive else rng.choice(("always", "only ever"))
            verb = "disappoint" if adverb == "only ever" else "disappointed"
            return f"{subject} {adverb} {verb}"
        if form == 5:
            if positive:
                return f"{subject} left {rng.choice(('nothing', 'little'))} to be desired"
            return f"{subject} left {rng.choice(('a lot', 'much'))} to be desired"
        if positive:
            return f"I {rng.choice(('expected less', 'expected nothing'))} and {subject} surprised me"
        return f"I expected more from {subject}"


def _opposite(polarity: str) -> str:
    return "negative" if polarity == "positive" else "positive"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _example(grammar: _Grammar, phenomenon: str, label: str) -> str:
    rng = grammar.rng
    domain = DOMAINS[rng.choice(sorted(DOMAINS))]
    if phenomenon == "plain":
        body = grammar.clause(domain, label, negated=False)
        if rng.random() < 0.4:
            body += " and " + grammar.clause(domain, label, negated=False, avoid=body)
    elif phenomenon == "negation":
        body = grammar.clause(domain, label, negated=True)
        if rng.random() < 0.3:
            # Same-polarity pair, one plain: the adjectives then disagree in the surface form.
            body += " and " + grammar.clause(domain, label, negated=False, avoid=body)
    elif phenomenon == "contrast":
        first = grammar.clause(domain, _opposite(label), negated=rng.random() < 0.3)
        main = grammar.clause(domain, label, negated=rng.random() < 0.3, avoid=first)
        form = rng.randrange(6)
        if form == 0:
            body = f"{first}, but {main}"
        elif form == 1:
            body = f"{first}, yet {main}"
        elif form == 2:
            body = f"{first}; however, {main}"
        elif form == 3:
            body = f"{first}. But {main}"
        elif form == 4:
            body = f"although {first}, {main}"
        else:
            body = f"{main}, even though {first}"
    elif phenomenon == "idiom":
        body = grammar.idiom(domain, label)
    else:
        raise ValueError(f"unknown phenomenon {phenomenon!r}")
    parts = [_sentence(body)]
    # Neutral context sentences add length and domain words that say nothing about the label.
    context = rng.sample(domain["context"], 2)
    if rng.random() < 0.3:
        parts.insert(0, context[0])
    if rng.random() < 0.15:
        parts.append(context[1])
    return " ".join(parts)


def generate(seed: int = SEED) -> list[dict[str, str]]:
    """All rows, ordered train, validation, test; each ``{text, label, split, phenomenon}``."""
    rng = random.Random(seed)
    grammar = _Grammar(rng)
    seen: set[str] = set()
    strata: dict[tuple[str, str], list[str]] = {}
    for phenomenon, per_label in TARGETS.items():
        for label in LABELS:
            texts: list[str] = []
            attempts = 0
            while len(texts) < per_label:
                attempts += 1
                if attempts > per_label * 50:
                    raise RuntimeError(f"grammar too small for {phenomenon}/{label}")
                text = _example(grammar, phenomenon, label)
                # Case-insensitive: two texts that differ only in case are the same review.
                if text.lower() not in seen:
                    seen.add(text.lower())
                    texts.append(text)
            strata[(phenomenon, label)] = texts
    rows: dict[str, list[dict[str, str]]] = {name: [] for name, _ in SPLIT_FRACTIONS}
    for (phenomenon, label), texts in strata.items():
        rng.shuffle(texts)
        start = 0
        for index, (name, fraction) in enumerate(SPLIT_FRACTIONS):
            stop = len(texts) if index == len(SPLIT_FRACTIONS) - 1 else start + round(
                len(texts) * fraction
            )
            rows[name].extend(
                {"text": t, "label": label, "split": name, "phenomenon": phenomenon}
                for t in texts[start:stop]
            )
            start = stop
    ordered: list[dict[str, str]] = []
    for name, _ in SPLIT_FRACTIONS:
        rng.shuffle(rows[name])
        ordered.extend(rows[name])
    return ordered


def to_csv(rows: list[dict[str, str]]) -> bytes:
    """The CSV text (UTF-8, ``\\n`` line ends, header ``text,label,split,phenomenon``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=("text", "label", "split", "phenomenon"), lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def to_gzip(data: bytes) -> bytes:
    # mtime=0 and no file name in the header, so the archive depends on the content only.
    return gzip.compress(data, compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with --output, write nothing")
    args = parser.parse_args(argv)
    data = to_csv(generate())
    if args.check:
        same = args.output.exists() and gzip.decompress(args.output.read_bytes()) == data
        print(f"{args.output}: {'up to date' if same else 'DIFFERS from the generator'}")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(to_gzip(data))
    print(f"wrote {args.output} ({len(data)} bytes of CSV)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
