"""numpy that releases the GIL: smooth blocks of noisy signal and measure their spread.

It stands for array work done block by block: filtering sensor recordings, processing image
tiles, simulating independent runs. Each block is 200,000 samples of seeded noise
(``numpy.random.default_rng(seed)``), low-pass filtered through an FFT, sorted, and reduced to
one number: the spread between its 1st and 99th percentiles, rounded to 9 decimals, so the
loop's results and the workers' compare equal (a Python float, not an array). One block takes
about 20 ms, nearly all of it inside numpy's C code, which lets go of the GIL while it works:
so threads speed it up too, without copying blocks between processes.

``smooth_pair(seed, size)`` is the same with the block's size as a second argument, and
``pairs()`` gives (seed, size) tuples of uneven sizes: pool-starmap unpacks each tuple into
the two arguments.

Run it on its own (the plain loop)::

    python examples/numpy_blocks.py

and under mpscope, from the repository's root::

    mpscope run --job examples/numpy_blocks.py:smooth --inputs examples/numpy_blocks.py:blocks -s thread-pool
    mpscope run --job examples/numpy_blocks.py:smooth_pair --inputs examples/numpy_blocks.py:pairs -s pool-starmap
    mpscope compare --job examples/numpy_blocks.py:smooth --inputs examples/numpy_blocks.py:blocks --items 100 --strategies thread-pool,pool-map --workers 2 --repeat 1
"""  # noqa: E501 - the commands are meant to be copied whole

from __future__ import annotations

import time

import numpy as np

BLOCKS = 150  # about 3 s of the plain loop on a 2-core VM
SIZE = 200_000  # samples per block
KEEP = 0.01  # the low-pass filter keeps this share of the frequencies


def blocks(count: int = BLOCKS) -> list[int]:
    """The blocks' seeds: one block per seed."""
    return list(range(1000, 1000 + count))


def pairs(count: int = BLOCKS) -> list[tuple[int, int]]:
    """(seed, size) tuples for ``smooth_pair``: sizes from 50,000 to 350,000 samples, so some
    tasks take seven times as long as others."""
    return [(seed, 50_000 * (1 + seed % 7)) for seed in blocks(count)]


def smooth_pair(seed: int, size: int) -> float:
    """The 1st-99th percentile spread of ``size`` samples of noise (seeded by ``seed``) after
    a low-pass filter, rounded to 9 decimals."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(size)
    spectrum = np.fft.rfft(signal)
    spectrum[max(1, int(KEEP * len(spectrum))) :] = 0  # drop the high frequencies
    smoothed = np.fft.irfft(spectrum, n=size)
    ordered = np.sort(smoothed)
    spread = ordered[int(0.99 * size)] - ordered[int(0.01 * size)]
    return round(float(spread), 9)


def smooth(seed: int) -> float:
    """``smooth_pair(seed, SIZE)``: one block of the default size."""
    return smooth_pair(seed, SIZE)


if __name__ == "__main__":
    seeds = blocks()
    t0 = time.perf_counter()
    spreads = [smooth(seed) for seed in seeds]
    t1 = time.perf_counter()
    uneven = [smooth_pair(*pair) for pair in pairs()]
    t2 = time.perf_counter()
    print(
        f"{len(seeds)} blocks of {SIZE:,} samples smoothed in {t1 - t0:.2f} s by the plain loop "
        f"({1000 * (t1 - t0) / len(seeds):.1f} ms each)"
    )
    print(f"spread: {min(spreads):.4f} to {max(spreads):.4f}, mean {np.mean(spreads):.4f}")
    print(f"{len(uneven)} blocks of uneven sizes (smooth_pair) in {t2 - t1:.2f} s")
