"""Classification quality from (real, predicted) category counts: accuracy and weighted F1."""

from collections import Counter
from collections.abc import Mapping


def accuracy(pair_counts: Mapping[tuple[int, int], int]) -> float:
    """Share of items whose predicted category is the real one (0 when there is none)."""
    total = sum(pair_counts.values())
    if total == 0:
        return 0.0
    return sum(n for (real, pred), n in pair_counts.items() if real == pred) / total


def weighted_f1(pair_counts: Mapping[tuple[int, int], int]) -> float:
    """F1 per category averaged with the number of real items of each category as weight.

    Same definition as scikit-learn's ``f1_score(average="weighted")``: a category without
    predictions or without real items scores 0 for that side.
    """
    true_positives: Counter[int] = Counter()
    predicted: Counter[int] = Counter()
    support: Counter[int] = Counter()
    for (real, pred), count in pair_counts.items():
        support[real] += count
        predicted[pred] += count
        if real == pred:
            true_positives[real] += count
    total = sum(support.values())
    if total == 0:
        return 0.0
    score = 0.0
    for category, real_count in support.items():
        hits = true_positives[category]
        if hits == 0:
            continue
        precision = hits / predicted[category]
        recall = hits / real_count
        score += real_count * 2 * precision * recall / (precision + recall)
    return score / total
