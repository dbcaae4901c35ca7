"""How well a linker found the true pairs: precision, recall, F1 and what it left for review."""

from dataclasses import asdict, dataclass

Pair = tuple[str, str]
"""One link between two records: (id on side A, id on side B)."""


@dataclass(frozen=True)
class Scores:
    """A linker's result against the true pairs, as counts and the figures derived from them.

    By convention precision is 0 when nothing was linked, recall is 0 when there is nothing to find,
    and F1 is 0 when both are 0: a tool that links nothing scores nothing, never a division error.
    """

    true_positives: int
    false_positives: int
    missed: int
    """True pairs not linked, whether or not they were left for review."""
    review_only: int
    """True pairs not linked but left for a person to review."""
    seconds: float | None = None

    @property
    def links(self) -> int:
        """How many pairs were linked."""
        return self.true_positives + self.false_positives

    @property
    def truth(self) -> int:
        """How many true pairs there were to find."""
        return self.true_positives + self.missed

    @property
    def precision(self) -> float:
        """The share of links that are true pairs (0 with no links)."""
        return self.true_positives / self.links if self.links else 0.0

    @property
    def recall(self) -> float:
        """The share of true pairs that were linked (0 with no true pairs)."""
        return self.true_positives / self.truth if self.truth else 0.0

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall (0 when both are 0)."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def review_share(self) -> float:
        """The share of true pairs that were only left for review, not linked."""
        return self.review_only / self.truth if self.truth else 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        """The counts and the derived figures, for a JSON report."""
        return asdict(self) | {
            "links": self.links,
            "truth": self.truth,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "review_share": self.review_share,
        }


def score(
    links: set[Pair] | frozenset[Pair],
    truth: set[Pair] | frozenset[Pair],
    reviews: set[Pair] | frozenset[Pair] = frozenset(),
    *,
    seconds: float | None = None,
) -> Scores:
    """Score `links` against `truth`; `reviews` are the pairs a tool left for a person to decide."""
    found = links & truth
    return Scores(
        true_positives=len(found),
        false_positives=len(links - truth),
        missed=len(truth - links),
        review_only=len((reviews & truth) - links),
        seconds=seconds,
    )


def format_table(rows: list[tuple[str, Scores]]) -> str:
    """A Markdown table of the tools' scores, one row per tool in the order given."""
    lines = [
        "| tool | precision | recall | F1 | left for review | seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for tool, s in rows:
        review = f"{s.review_only} ({s.review_share:.1%})"
        seconds = "–" if s.seconds is None else f"{s.seconds:.2f}"
        lines.append(f"| {tool} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {review} | {seconds} |")
    return "\n".join(lines) + "\n"
