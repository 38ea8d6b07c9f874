"""I/O-bound: fetch a list of web pages, one request at a time.

It stands for any job that mostly waits: HTTP requests, database queries, reading from a slow
disk or a remote API. Nothing here touches the network: ``fetch`` sleeps 20 ms where a real
client would wait for the server (``time.sleep`` releases the GIL, as a socket read does) and
makes up a status and a page size from the URL, the same for every call. Waiting needs no CPU,
so threads overlap the waits as well as processes do, without starting processes; and with
more workers than cores (``--workers 8``) both go faster still.

Run it on its own (the plain loop)::

    python examples/fetch_pages.py

and under mpscope, from the repository's root::

    mpscope run --job examples/fetch_pages.py:fetch --inputs examples/fetch_pages.py:urls -s thread-pool --workers 8
    mpscope run --job examples/fetch_pages.py:fetch --inputs examples/fetch_pages.py:urls -s pool-map
    mpscope compare --job examples/fetch_pages.py:fetch --inputs examples/fetch_pages.py:urls --items 100 --strategies thread-pool,pool-map --workers 2,8 --repeat 1
"""  # noqa: E501 - the commands are meant to be copied whole

from __future__ import annotations

import hashlib
import time

PAGES = 150  # 3 s of waiting for the plain loop
LATENCY_S = 0.020  # what one request waits for its server
SITES = ("docs.example.org", "shop.example.com", "news.example.net", "wiki.example.org")
SECTIONS = ("guide", "api", "blog", "item", "tag")


def urls(count: int = PAGES) -> list[str]:
    """``count`` made-up URLs, the same every call."""
    return [
        f"https://{SITES[i % len(SITES)]}/{SECTIONS[i % len(SECTIONS)]}/{i * 7919 % 10007}"
        for i in range(count)
    ]


def fetch(url: str) -> tuple[str, int, int]:
    """``(url, status, size in bytes)`` of a pretend GET of ``url``, after ``LATENCY_S``."""
    time.sleep(LATENCY_S)  # the request in flight: a real one would block on its socket here
    digest = hashlib.sha256(url.encode()).digest()
    status = 404 if digest[0] < 13 else 200  # about one page in twenty is gone
    size = 0 if status == 404 else 2_000 + int.from_bytes(digest[1:4], "big") % 150_000
    return url, status, size


if __name__ == "__main__":
    pages = urls()
    t0 = time.perf_counter()
    results = [fetch(url) for url in pages]
    elapsed = time.perf_counter() - t0
    found = [size for _, status, size in results if status == 200]
    print(
        f"{len(pages)} pages fetched in {elapsed:.2f} s by the plain loop "
        f"({1000 * elapsed / len(pages):.1f} ms each, nearly all of it waiting)"
    )
    print(
        f"{len(found)} found ({sum(found) / 1e6:.1f} MB in all), "
        f"{len(results) - len(found)} not found (404)"
    )
