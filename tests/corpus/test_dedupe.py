"""Deduplication: datasketch-identical signatures, exact duplicates, and precision and recall on planted
near-duplicates against the exact Jaccard similarity."""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np
from datasketch import MinHash

from asara.corpus.dedupe import NUM_PERM, Deduper, Signer, shingle_hashes, words_of

VOCABULARY = [f"w{i}" for i in range(20_000)]


def shingles(text: str) -> set[tuple[str, ...]]:
    words = words_of(text)
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def test_signatures_equal_datasketch_minhash() -> None:
    rng = random.Random(0)
    texts = [" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(0, 80))) for _ in range(30)]
    texts += ["Ünïcödé — naïve façade, déjà vu!", "one", "two words"]
    hashes = [shingle_hashes(words_of(t)) for t in texts]
    ours = Signer(NUM_PERM).sign(hashes)
    for row, h in zip(ours, hashes, strict=True):
        reference = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=int)
        reference.update_batch(h.astype(np.uint64))
        assert np.array_equal(reference.hashvalues, row)
    # The compiled path over bytes gives the same signatures as the reference shingles.
    normalised = [" ".join(words_of(t)).encode() for t in texts]
    assert np.array_equal(Signer(NUM_PERM).sign_texts(normalised), ours)


def mutate(text: str, rng: random.Random, edits: int) -> str:
    words = text.split()
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(VOCABULARY)
    return " ".join(words)


def test_precision_and_recall_on_planted_near_duplicates() -> None:
    rng = random.Random(42)
    originals = [" ".join(rng.choice(VOCABULARY) for _ in range(200)) for _ in range(400)]
    texts = list(originals)
    planted: set[tuple[int, int]] = set()
    for source in range(0, 400, 4):  # 100 near-duplicates: 1 word in 100 replaced (Jaccard about 0.9)
        texts.append(mutate(originals[source], rng, 2))
        planted.add((source, len(texts) - 1))
    for source in range(1, 400, 8):  # 50 far variants: 1 word in 10 replaced (Jaccard about 0.4)
        texts.append(mutate(originals[source], rng, 20))
    texts.append(texts[7])  # an exact duplicate (after normalisation)
    texts[-1] = texts[-1].upper()
    with Deduper(len(texts), threshold=0.8) as deduper:
        for start in range(0, len(texts), 128):
            deduper.add(list(range(start, min(start + 128, len(texts)))), texts[start : start + 128])
        result = deduper.finish()
    assert result.report["exact_duplicates"] == 1 and result.exact_duplicate[-1]
    sets = [shingles(t) for t in texts]
    truth = {
        (i, j)
        for i, j in combinations(range(len(texts)), 2)
        if len(sets[i] & sets[j]) >= 0.8 * len(sets[i] | sets[j])
    }
    assert planted | {(7, len(texts) - 1)} <= truth
    found = {
        (i, j)
        for i, j in combinations(range(len(texts)), 2)
        if result.cluster[i] >= 0 and result.cluster[i] == result.cluster[j]
    }
    true_positive = len(found & truth)
    precision = true_positive / len(found)
    recall = true_positive / len(truth)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    # the kept member of each cluster is its lowest id; the others are duplicates
    for i, j in found:
        assert not result.duplicate[min(i, j)] or result.cluster[i] != min(i, j)
    assert result.duplicate.sum() == len({j for _, j in found})


def test_frequency_tables_show_a_collapsed_name() -> None:
    texts = [f"The report said that Elara Voss met w{i} and w{i + 1} at dawn." for i in range(300)]
    with Deduper(len(texts)) as deduper:
        deduper.add(list(range(len(texts))), texts)
        result = deduper.finish()
    top = {entry["key"]: entry for entry in result.report["names"][:2]}
    assert set(top) == {"Elara", "Voss"}
    assert top["Elara"]["documents"] == 300 and top["Elara"]["share"] == 1.0


def test_calendar_words_are_not_counted_as_names() -> None:
    texts = [f"On a quiet Tuesday in March, the operators met Kestrel number {i}." for i in range(50)]
    with Deduper(len(texts)) as deduper:
        deduper.add(list(range(len(texts))), texts)
        result = deduper.finish()
    keys = {entry["key"] for entry in result.report["names"]}
    assert "Kestrel" in keys and not keys & {"Tuesday", "March"}
