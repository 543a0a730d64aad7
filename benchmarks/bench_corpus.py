"""Corpus pipeline benchmark, run on demand: `python benchmarks/bench_corpus.py [--documents N] [--json]`.

Measures, in one run on this machine:

- dedup throughput (documents per second of wall time and of this process's CPU time, through exact and
  MinHash LSH near-duplicate detection with the name and trigram tables) on N short synthetic documents
  (80 words each, a 20,000-word vocabulary), with 1% planted near-duplicates (one word replaced: Jaccard
  of word 5-grams about 0.88) and 0.5% exact copies, and the process's peak RSS before and after (the
  issue's bound: 1e6 documents within 2 GB, 20,000 documents/s);
- recall: the share of planted pairs whose true Jaccard similarity reaches the threshold that end in one
  cluster; precision: the share of (kept document, member) pairs of the clusters whose true Jaccard
  similarity reaches the threshold;
- plan expansion (document specs per second) and cheap checks (documents per second) on template texts.

The client's throughput against a local server is measured by benchmarks/bench_corpus_client.py.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from typing import Any

from asara.corpus import checks, spec
from asara.corpus.backends.template import document_text
from asara.corpus.dedupe import Deduper, words_of

BATCH = 4096


def peak_rss_mb() -> float:
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / 2**20


def synthetic(documents: int, seed: int) -> tuple[list[str], set[tuple[int, int]]]:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(20_000)]
    texts: list[str] = []
    planted: set[tuple[int, int]] = set()
    while len(texts) < documents:
        index = len(texts)
        roll = rng.random()
        if index > 0 and roll < 0.01:
            source = rng.randrange(index)
            words = texts[source].split()
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
            texts.append(" ".join(words))
            planted.add((source, index))
        elif index > 0 and roll < 0.015:
            source = rng.randrange(index)
            texts.append(texts[source])
            planted.add((source, index))
        else:
            texts.append(" ".join(rng.choice(vocabulary) for _ in range(80)))
    return texts, planted


def shingle_set(text: str) -> set[tuple[str, ...]]:
    words = words_of(text)
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def bench_dedupe(documents: int, threshold: float) -> dict[str, Any]:
    texts, planted = synthetic(documents, 1)
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    cpu_start = time.process_time()
    with Deduper(documents, threshold) as deduper:
        for first in range(0, documents, BATCH):
            deduper.add(list(range(first, min(first + BATCH, documents))), texts[first : first + BATCH])
        result = deduper.finish()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    rss_after = peak_rss_mb()

    def similar(a: int, b: int) -> bool:
        x, y = shingle_set(texts[a]), shingle_set(texts[b])
        return len(x & y) >= threshold * len(x | y)

    # Pairs the clusters claim: every member with its cluster's kept document.
    cluster = result.cluster
    found = [(int(cluster[i]), i) for i in range(documents) if cluster[i] >= 0 and cluster[i] != i]
    truth = [(a, b) for a, b in planted if similar(a, b)]
    hits = sum(1 for a, b in truth if cluster[a] >= 0 and cluster[a] == cluster[b])
    false = sum(1 for kept, member in found if not similar(kept, member))
    return {
        "documents": documents,
        "seconds": seconds,
        "documents_per_second": documents / seconds,
        "cpu_seconds": cpu_seconds,
        "documents_per_cpu_second": documents / cpu_seconds,
        "peak_rss_mb_before": rss_before,
        "peak_rss_mb_after": rss_after,
        "planted_pairs": len(planted),
        "planted_pairs_above_threshold": len(truth),
        "recall": hits / len(truth) if truth else 1.0,
        "precision": 1 - false / len(found) if found else 1.0,
        "clusters": result.report["clusters"],
        "duplicates": result.report["duplicates"],
        "bands": result.report["bands"],
        "rows": result.report["rows"],
    }


def bench_plan_and_checks(documents: int) -> dict[str, Any]:
    corpus_spec = spec.load_spec("production-stories")
    start = time.perf_counter()
    rows = [row for table in spec.expand(corpus_spec, 1, documents) for row in table.to_pylist()]
    plan_seconds = time.perf_counter() - start
    sample = rows[: min(len(rows), 5000)]
    texts = [document_text(row, index) for index, row in enumerate(sample)]
    start = time.perf_counter()
    flagged = sum(bool(checks.cheap_flags(text, row)) for text, row in zip(texts, sample, strict=True))
    check_seconds = time.perf_counter() - start
    return {
        "plan_documents_per_second": documents / plan_seconds,
        "check_documents_per_second": len(sample) / check_seconds,
        "check_words_per_document": sum(len(t.split()) for t in texts) / len(texts),
        "template_documents_flagged": flagged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {
        "dedupe": bench_dedupe(args.documents, args.threshold),
        **bench_plan_and_checks(args.documents),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    d = results["dedupe"]
    print(
        f"dedupe: {d['documents']:,} documents in {d['seconds']:.1f} s = "
        f"{d['documents_per_second']:,.0f} docs/s (target 20,000; "
        f"{d['documents_per_cpu_second']:,.0f} per CPU second); peak RSS {d['peak_rss_mb_after']:.0f} MB "
        f"(before {d['peak_rss_mb_before']:.0f} MB); {d['bands']} bands x {d['rows']} rows"
    )
    print(
        f"planted pairs {d['planted_pairs']:,} ({d['planted_pairs_above_threshold']:,} above the threshold): "
        f"recall {d['recall']:.4f}, precision {d['precision']:.4f} "
        f"({d['clusters']:,} clusters, {d['duplicates']:,} duplicates)"
    )
    print(
        f"plan expansion {results['plan_documents_per_second']:,.0f} specs/s; cheap checks "
        f"{results['check_documents_per_second']:,.0f} docs/s on template texts of "
        f"{results['check_words_per_document']:.0f} words"
    )


if __name__ == "__main__":
    main()
