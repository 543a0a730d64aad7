"""Exact and near-duplicate detection with MinHash LSH, in bounded memory, plus frequency tables that
expose mode collapse.

* Exact: the sha1 of the normalised text (lower case, letters and digits only, single spaces).
* Near: word 5-gram shingles, MinHash signatures in datasketch's ``affine32`` scheme (the permutations come
  from :class:`datasketch.MinHash`; the signatures are computed for a whole batch of documents at once with
  the same arithmetic, and a test checks them against ``MinHash.update_batch``), banded with the (bands,
  rows) that :mod:`datasketch.lsh` finds optimal for the threshold with false negatives weighted 9:1.
  Documents sharing a band bucket are candidates; a candidate is joined to its bucket's first member when
  their signatures agree on at least ``threshold`` of the permutations (estimated Jaccard). Clusters are
  the connected components; the lowest id of a cluster is kept, the others are duplicates.
* Memory: signatures and band keys live in disk-backed arrays (``numpy.memmap``) in a work folder, a few
  hundred bytes per document; the frequency tables keep at most :data:`TABLE_CAPACITY` entries each.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from asara.errors import InputError

SHINGLE = 5
NUM_PERM = 64
TABLE_CAPACITY = 100_000
# Word trigrams are counted in the documents whose id is a multiple of NGRAM_SAMPLE; shares are
# estimated from that sample. Names are counted in every document.
NGRAM_SAMPLE = 8
TABLE_TOP = 25
# Punctuation (ASCII and common typographic marks) becomes a space; letters of every script are kept.
_PUNCTUATION = {c: " " for c in range(128) if not chr(c).isalnum()} | {
    ord(c): " " for c in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u00a0\u2022\u00b7"
}
_MID_SENTENCE_CAPITAL = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]{2,}")
# Capitalised mid-sentence but not names: counting them would hide a collapsed name behind "Tuesday".
_CALENDAR_WORDS = frozenset(
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
)
_SHINGLE_MULTIPLIERS = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1], dtype=np.uint32)
_BAND_MULTIPLIERS = np.random.default_rng(20260101).integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | 1


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation removed."""
    return text.lower().translate(_PUNCTUATION).split()


def normalise(text: str) -> str:
    return " ".join(words_of(text))


def exact_key(normalised: str) -> int:
    """A 63-bit key of the normalised text (sha1; collisions are negligible at 1e9 documents)."""
    return int.from_bytes(hashlib.sha1(normalised.encode()).digest()[:8], "little") >> 1


def word_hash(word: str) -> int:
    """FNV-1a (32 bits) of the word's UTF-8 bytes (the compiled kernel computes the same)."""
    h = 0x811C9DC5
    for byte in word.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def shingle_hashes(words: Sequence[str]) -> np.ndarray:
    """32-bit hashes of the word 5-grams; a text of fewer words is one shingle, padded with zeros.

    The reference for :func:`_batch_signatures` (which does the same on bytes, compiled)."""
    w = [word_hash(word) for word in words]
    w.extend([0] * (SHINGLE - len(w)))
    hashes = np.array(w, dtype=np.uint64)
    n = hashes.size - SHINGLE + 1
    total = np.zeros(n, dtype=np.uint64)
    for j in range(SHINGLE):
        total += hashes[j : j + n] * np.uint64(_SHINGLE_MULTIPLIERS[j])
    result: np.ndarray = (total & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return result


class Signer:
    """MinHash signatures of many documents at once (datasketch's affine32 scheme, seed 1)."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 1) -> None:
        reference = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
        a, b = reference.permutations
        self.a = np.asarray(a, dtype=np.uint32)
        self.b = np.asarray(b, dtype=np.uint32)
        self.num_perm = num_perm

    def sign(self, shingles: Sequence[np.ndarray]) -> np.ndarray:
        """(documents, num_perm) uint32 signatures; each entry of ``shingles`` is one document's hashes."""
        lengths = np.array([s.size for s in shingles])
        return self.sign_flat(np.concatenate(shingles), np.cumsum(lengths) - lengths)

    def sign_texts(self, normalised: Sequence[bytes]) -> np.ndarray:
        """Signatures of normalised texts (UTF-8, words separated by single spaces)."""
        lengths = np.array([len(t) for t in normalised], dtype=np.int64)
        starts = np.cumsum(lengths + 1) - (lengths + 1)
        data = np.frombuffer(b"\n".join(normalised) + b"\n", dtype=np.uint8)
        return _batch_signatures(data, starts, starts + lengths, self.a, self.b, _SHINGLE_MULTIPLIERS)

    def sign_flat(self, shingles: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Signatures of documents whose shingle hashes are ``shingles[starts[d]:starts[d + 1]]`` (each
        document has at least one)."""
        ends = np.append(starts[1:], shingles.size).astype(np.int64)
        return _sign_kernel(shingles.astype(np.uint32), starts.astype(np.int64), ends, self.a, self.b)


@numba.njit(cache=True)
def _batch_signatures(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, a: np.ndarray, b: np.ndarray, m: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled; checked against shingle_hashes and datasketch in the tests
    """Signatures of normalised texts given as UTF-8 bytes (words separated by single spaces)."""
    documents = starts.size
    perms = a.size
    mask = np.uint64(0xFFFFFFFF)
    a64 = a.astype(np.uint64)
    b64 = b.astype(np.uint64)
    m64 = m.astype(np.uint64)
    result = np.full((documents, perms), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    window = np.zeros(5, dtype=np.uint64)
    for d in range(documents):
        row = result[d]
        words = 0
        position = starts[d]
        end = ends[d]
        while position <= end:
            if position < end and data[position] == 32:
                position += 1
                continue
            if position == end:
                break
            h = np.uint64(0x811C9DC5)
            while position < end and data[position] != 32:
                h = ((h ^ np.uint64(data[position])) * np.uint64(0x01000193)) & mask
                position += 1
            window[words % 5] = h
            words += 1
            if words >= 5:
                shingle = np.uint64(0)
                for j in range(5):
                    shingle += window[(words - 5 + j) % 5] * m64[j]
                _absorb(row, shingle & mask, a64, b64, perms)
        if words < 5:  # one shingle of all the words, padded with zeros
            shingle = np.uint64(0)
            for j in range(words):
                shingle += window[j] * m64[j]
            _absorb(row, shingle & mask, a64, b64, perms)
    return result


@numba.njit(cache=True, inline="always")
def _absorb(
    row: np.ndarray, shingle: np.uint64, a64: np.ndarray, b64: np.ndarray, perms: int
) -> None:  # pragma: no cover - compiled
    mask = np.uint64(0xFFFFFFFF)
    h = shingle
    # fmix32, in 64 bits and masked (numba widens 32-bit products)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & mask
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & mask
    h ^= h >> np.uint64(16)
    for p in range(perms):
        value = np.uint32((a64[p] * h + b64[p]) & mask)
        if value < row[p]:
            row[p] = value


@numba.njit(cache=True)
def _sign_kernel(
    shingles: np.ndarray, starts: np.ndarray, ends: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled; checked against datasketch in the tests
    """min over a document's shingles of a * fmix32(h) + b (mod 2^32), per permutation."""
    documents = starts.size
    perms = a.size
    a64 = a.astype(np.uint64)
    b64 = b.astype(np.uint64)
    result = np.full((documents, perms), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for d in range(documents):
        row = result[d]
        for i in range(starts[d], ends[d]):
            _absorb(row, np.uint64(shingles[i]), a64, b64, perms)
    return result


class BoundedCounter:
    """Document frequencies of the most frequent keys, in at most ``capacity`` entries.

    When full, the table keeps the ``capacity // 2`` most frequent keys; counts of keys that were dropped
    and came back are lower bounds (the top of the table, where mode collapse shows, is exact unless a
    key's first occurrences were spread thinner than the pruning threshold)."""

    def __init__(self, capacity: int = TABLE_CAPACITY) -> None:
        self.capacity = capacity
        self.counts: Counter[str] = Counter()
        self.pruned = False

    def add(self, keys: set[str]) -> None:
        self.add_counts(Counter(keys))

    def add_counts(self, counts: Counter[str]) -> None:
        self.counts.update(counts)
        if len(self.counts) > self.capacity:
            self.counts = Counter(dict(self.counts.most_common(self.capacity // 2)))
            self.pruned = True

    def top(self, n: int, documents: int) -> list[dict[str, Any]]:
        return [
            {"key": key, "documents": count, "share": count / documents if documents else 0.0}
            for key, count in self.counts.most_common(n)
        ]


@dataclass
class DedupeResult:
    ids: np.ndarray  # int64 document ids, in the order added
    exact_duplicate: np.ndarray  # bool: an earlier document has the same normalised text
    cluster: np.ndarray  # int64: id of the cluster's kept document, -1 when the document is unique
    duplicate: np.ndarray  # bool: in a cluster and not its kept document
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sketch:
    """What deduplication keeps of a batch of documents: ids, exact keys, signatures and table counts."""

    ids: np.ndarray
    exact: np.ndarray
    signatures: np.ndarray
    names: Counter[str]
    ngrams: Counter[str]
    ngram_documents: int


_SIGNERS: dict[int, Signer] = {}


def sketch(ids: Sequence[int], texts: Sequence[str], num_perm: int = NUM_PERM) -> Sketch:
    """Exact keys, MinHash signatures and name/trigram document counts of a batch (a pure function:
    workers of a Dask cluster compute it per manifest shard). Trigrams are counted in the documents whose
    id is a multiple of :data:`NGRAM_SAMPLE`, so the sample does not depend on how work is split."""
    signer = _SIGNERS.get(num_perm)
    if signer is None:
        signer = _SIGNERS[num_perm] = Signer(num_perm)
    n = len(texts)
    exact = np.empty(n, dtype=np.int64)
    normalised: list[bytes] = []
    names: Counter[str] = Counter()
    ngrams: Counter[str] = Counter()
    sampled = 0
    for i, (doc_id, text) in enumerate(zip(ids, texts, strict=True)):
        words = words_of(text)
        data = " ".join(words).encode()
        normalised.append(data)
        exact[i] = int.from_bytes(hashlib.sha1(data).digest()[:8], "little") >> 1
        names.update(set(_MID_SENTENCE_CAPITAL.findall(text)) - _CALENDAR_WORDS)
        if doc_id % NGRAM_SAMPLE == 0:
            ngrams.update({" ".join(words[j : j + 3]) for j in range(len(words) - 2)})
            sampled += 1
    signatures = signer.sign_texts(normalised) if n else np.zeros((0, num_perm), dtype=np.uint32)
    return Sketch(np.asarray(ids, dtype=np.int64), exact, signatures, names, ngrams, sampled)


class Deduper:
    """Add documents in batches (``add``), then ``finish`` for clusters and tables."""

    def __init__(
        self, capacity: int, threshold: float = 0.8, num_perm: int = NUM_PERM, workdir: Path | None = None
    ) -> None:
        if not 0.5 <= threshold <= 1.0:
            raise InputError(f"must lie in [0.5, 1] (got {threshold})", field="--threshold")
        if capacity < 0:
            raise ValueError("capacity must be non-negative")
        self.threshold = threshold
        # Candidates are verified against the signatures, so a false candidate costs only a comparison
        # while a missed one is lost: the banding favours recall (false negatives weigh 9 times more).
        self.bands, self.rows = _optimal_param(threshold, num_perm, 0.1, 0.9)
        self.signer = Signer(num_perm)
        self.capacity = max(capacity, 1)
        self._tmp = tempfile.TemporaryDirectory(prefix=".dedupe-", dir=workdir)
        folder = Path(self._tmp.name)
        self.signatures = np.memmap(
            folder / "sig", dtype=np.uint32, mode="w+", shape=(self.capacity, num_perm)
        )
        self.band_keys = np.memmap(
            folder / "bands", dtype=np.uint64, mode="w+", shape=(self.capacity, self.bands)
        )
        self.exact = np.memmap(folder / "exact", dtype=np.int64, mode="w+", shape=(self.capacity,))
        self.ids = np.memmap(folder / "ids", dtype=np.int64, mode="w+", shape=(self.capacity,))
        self.count = 0
        self.names = BoundedCounter()
        self.ngrams = BoundedCounter()
        self.ngram_documents = 0

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Add documents (``ids`` in plan order) computed here; see :func:`sketch` for other processes."""
        self.add_sketch(sketch(ids, texts, self.signer.num_perm))

    def add_sketch(self, part: Sketch) -> None:
        """Add a batch whose signatures were computed by :func:`sketch` (here, or on a worker)."""
        n = part.ids.size
        if self.count + n > self.capacity:
            raise ValueError(f"more documents than the capacity {self.capacity}")
        if part.signatures.shape[1:] != (self.signer.num_perm,):
            raise ValueError("the sketch has another number of permutations")
        self.names.add_counts(part.names)
        self.ngrams.add_counts(part.ngrams)
        self.ngram_documents += part.ngram_documents
        if n == 0:
            return
        sig = part.signatures
        block = slice(self.count, self.count + n)
        self.signatures[block] = sig
        with np.errstate(over="ignore"):
            for band in range(self.bands):
                cols = sig[:, band * self.rows : (band + 1) * self.rows].astype(np.uint64)
                self.band_keys[block, band] = (cols * _BAND_MULTIPLIERS[: self.rows]).sum(
                    axis=1, dtype=np.uint64
                )
        self.exact[block] = part.exact
        self.ids[block] = part.ids
        self.count += n

    def _bucket_pairs(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first member, other member) for every bucket of equal keys."""
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        same = np.concatenate([[False], ordered[1:] == ordered[:-1]])
        run_start = np.maximum.accumulate(np.where(~same, np.arange(keys.size), 0))
        members = np.flatnonzero(same)
        return order[run_start[members]], order[members]

    def finish(self, step: int = 1 << 20) -> DedupeResult:
        n = self.count
        sources: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        first, other = self._bucket_pairs(np.asarray(self.exact[:n]))
        exact_duplicate = np.zeros(n, dtype=np.bool_)
        exact_duplicate[other] = True
        sources.append(first)
        targets.append(other)
        needed = int(np.ceil(self.threshold * self.signer.num_perm - 1e-9))
        for band in range(self.bands):
            first, other = self._bucket_pairs(np.asarray(self.band_keys[:n, band]))
            for start in range(0, first.size, step):
                f, o = first[start : start + step], other[start : start + step]
                agree = (self.signatures[f] == self.signatures[o]).sum(axis=1)
                keep = agree >= needed
                sources.append(f[keep])
                targets.append(o[keep])
        rows = np.concatenate(sources) if sources else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(targets) if targets else np.zeros(0, dtype=np.int64)
        graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n)).tocsr()
        _, labels = connected_components(graph, directed=False)
        sizes = np.bincount(labels, minlength=labels.max() + 1 if n else 0)
        # The kept document of a cluster is its first-added member (the lowest id in plan order).
        first_index = np.full(sizes.size, n, dtype=np.int64)
        np.minimum.at(first_index, labels, np.arange(n))
        ids = np.array(self.ids[:n])
        in_cluster = sizes[labels] > 1 if n else np.zeros(0, dtype=np.bool_)
        cluster = np.where(in_cluster, ids[first_index[labels]] if n else ids, -1)
        duplicate = in_cluster & (np.arange(n) != first_index[labels])
        big = np.flatnonzero(sizes > 1)
        largest = big[np.argsort(-sizes[big], kind="stable")][:20]
        report = {
            "documents": n,
            "threshold": self.threshold,
            "num_perm": self.signer.num_perm,
            "bands": self.bands,
            "rows": self.rows,
            "exact_duplicates": int(exact_duplicate.sum()),
            "clusters": int(big.size),
            "documents_in_clusters": int(in_cluster.sum()),
            "duplicates": int(duplicate.sum()),
            "largest_clusters": [
                {
                    "kept": int(ids[first_index[c]]),
                    "size": int(sizes[c]),
                    "members": [int(x) for x in ids[np.flatnonzero(labels == c)[:10]]],
                }
                for c in largest
            ],
            "names": self.names.top(TABLE_TOP, n),
            "names_table_pruned": self.names.pruned,
            "trigrams": self.ngrams.top(TABLE_TOP, self.ngram_documents),
            "trigrams_sampled_documents": self.ngram_documents,
            "trigrams_table_pruned": self.ngrams.pruned,
        }
        return DedupeResult(ids, exact_duplicate, cluster.astype(np.int64), duplicate, report)

    def close(self) -> None:
        for array in (self.signatures, self.band_keys, self.exact, self.ids):
            mm = getattr(array, "_mmap", None)
            if mm is not None:
                mm.close()
        self._tmp.cleanup()

    def __enter__(self) -> Deduper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
