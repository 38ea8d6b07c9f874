"""CPU-bound pure Python: count the words of a few thousand text documents.

It stands for any per-record work done in plain Python: parsing log lines, cleaning CSV rows,
tokenising text. Each document (a few KB of text) is lowercased, stripped of punctuation, split
into words, reduced to crude stems, filtered of stop words and counted; the result is the
document's ten most frequent stems with their counts (a small tuple, so sending it back from a
worker process costs little). One document takes about 1 ms of CPU and holds the GIL all the
while, so worker processes beat the plain loop and threads do not.

Run it on its own (the plain loop)::

    python examples/word_count.py

and under mpscope, from the repository's root::

    mpscope run --job examples/word_count.py:count_words --inputs examples/word_count.py:documents -s pool-map
    mpscope run --job examples/word_count.py:count_words --inputs examples/word_count.py:documents -s thread-pool
    mpscope compare --job examples/word_count.py:count_words --inputs examples/word_count.py:documents --items 2000 --strategies pool-map,thread-pool --workers 2 --repeat 1
"""  # noqa: E501 - the commands are meant to be copied whole

from __future__ import annotations

import random
import time

DOCUMENTS = 3000  # about 3 s of the plain loop on a 2-core VM
WORDS_PER_DOCUMENT = 900  # about 6 KB of text each

STOP_TEXT = "the of and to in is was for that with as on by at from this be it are an or which"
VOCABULARY_TEXT = f"""{STOP_TEXT}
process processes processing processed worker workers pool pools queue queues queued thread
threads threaded lock locks locking locked result results chunk chunks chunked count counts
counting counted item items task tasks time times timing timed memory parallel parallelism
speed speeds faster slower core cores run runs running runner data dataset datasets record
records file files line lines parse parser parsing parsed compute computes computing computed
value values sum sums total totals measure measures measuring measured start starts started
starting stop stops stopped stopping interpreter global python pythonic module modules
function functions call calls calling called return returns returned returning send sends
sending receive receives received pickle pickles pickled pickling machine machines network
networks request requests"""
VOCABULARY = tuple(VOCABULARY_TEXT.split())
STOP_WORDS = frozenset(STOP_TEXT.split())
PUNCTUATION = str.maketrans("", "", ".,;:!?\"'()")
SUFFIXES = ("ing", "ed", "es", "s", "er")  # a crude stemmer: the first that leaves 3+ letters
TOP = 10


def documents(count: int = DOCUMENTS) -> list[str]:
    """``count`` deterministic pseudo-random documents (the same every call, every process):
    sentences of 4 to 16 words from ``VOCABULARY``, capitalised, with a comma here and there."""
    rng = random.Random(20261128)
    out = []
    for _ in range(count):
        words = rng.choices(VOCABULARY, k=WORDS_PER_DOCUMENT)
        ends = rng.choices(".!?", weights=(8, 1, 1), k=WORDS_PER_DOCUMENT // 4)
        sentences, start = [], 0
        for length, end in zip(rng.choices(range(4, 17), k=len(ends)), ends):
            sentence = words[start : start + length]
            if not sentence:
                break
            if len(sentence) > 8:
                sentence[len(sentence) // 2] += ","
            sentences.append(" ".join(sentence).capitalize() + end)
            start += length
        out.append(" ".join(sentences))
    return out


def stem(word: str) -> str:
    """``processing`` -> ``process``, ``workers`` -> ``work``: strip the first suffix that
    leaves at least three letters."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def count_words(document: str) -> tuple[tuple[str, int], ...]:
    """The document's ``TOP`` most frequent terms with their counts, most frequent first, ties
    in alphabetical order: stems (stop words left out) and pairs of stems that follow each
    other within a sentence (``"pool map"``)."""
    counts: dict[str, int] = {}
    for sentence in document.lower().replace("!", ".").replace("?", ".").split("."):
        previous = ""
        for word in sentence.translate(PUNCTUATION).split():
            if word in STOP_WORDS:
                previous = ""
                continue
            key = stem(word)
            counts[key] = counts.get(key, 0) + 1
            if previous:
                pair = previous + " " + key
                counts[pair] = counts.get(pair, 0) + 1
            previous = key
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ranked[:TOP])


if __name__ == "__main__":
    t0 = time.perf_counter()
    docs = documents()
    t1 = time.perf_counter()
    results = [count_words(doc) for doc in docs]
    t2 = time.perf_counter()
    overall: dict[str, int] = {}
    for top in results:
        for word, n in top:
            overall[word] = overall.get(word, 0) + n
    best = sorted(overall.items(), key=lambda pair: (-pair[1], pair[0]))[:5]
    size = sum(map(len, docs)) / len(docs)
    print(f"{len(docs):,} documents of {size / 1024:.1f} KB on average, made in {t1 - t0:.2f} s")
    print(
        f"counted in {t2 - t1:.2f} s by the plain loop "
        f"({1000 * (t2 - t1) / len(docs):.2f} ms per document)"
    )
    print("most frequent terms:", ", ".join(f"{w} {n}" for w, n in best))
