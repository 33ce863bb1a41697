"""SynthPed generation speed: 2,000 images at 128x64 (target: <= 20 s on one core).

Prints images/s, the time for 2,000 images, and the ratio to an in-process baseline that only
encodes and writes the same number of JPEG images and PNG masks (the I/O floor every generator
pays), so the number means something on any machine.

    python benchmarks/bench_synthped.py [--images 2000] [--size 128x64] [--occluded]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 20.0
TARGET_IMAGES = 2000


def io_floor(out: Path, count: int, size: tuple[int, int]) -> float:
    """Seconds to write ``count`` JPEGs (a smooth gradient with mild noise, about as costly to
    encode as a SynthPed picture) and masks of ``size``, with no drawing at all."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0 : size[0], 0 : size[1]]
    gradient = np.stack([ys * 200 // size[0], xs * 200 // size[1], (ys + xs) * 100 // sum(size)], axis=-1)
    pixels = np.clip(gradient + rng.normal(0, 4, gradient.shape), 0, 255).astype(np.uint8)
    mask = np.zeros(size, np.uint8)
    mask[size[0] // 8 : -size[0] // 8, size[1] // 4 : -size[1] // 4] = 255
    out.mkdir(parents=True)
    start = time.perf_counter()
    for i in range(count):
        Image.fromarray(pixels).save(out / f"{i:06d}.jpg", quality=92)
        Image.fromarray(mask).save(out / f"{i:06d}.png")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=TARGET_IMAGES, help="images to generate (multiple of 10)")
    parser.add_argument("--size", default="128x64", help="HEIGHTxWIDTH")
    parser.add_argument("--occluded", action="store_true", help="the occluded variant (occluders are fitted per image)")
    args = parser.parse_args(argv)
    from scing_core.cli.synth import parse_size
    from scing_core.data.synthped import generate_synthped

    size = parse_size(args.size)
    ids = max(2, args.images // 10)
    cpu = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    print(f"SynthPed benchmark: {ids * 10} images at {size[0]}x{size[1]}, occluded={args.occluded}, "
          f"single process (CPUs visible: {len(cpu) if cpu else os.cpu_count()})")
    with tempfile.TemporaryDirectory() as tmp:
        floor = io_floor(Path(tmp) / "floor", ids * 10, size)
        start, cpu_start = time.perf_counter(), time.process_time()
        summary = generate_synthped(Path(tmp) / "synthped", ids=ids, images_per_id=10, cams=6, size=size,
                                    occluded=args.occluded, seed=0, distractors=0)
        wall, cpu_used = time.perf_counter() - start, time.process_time() - cpu_start
    count = sum(summary["counts"][s]["images"] for s in ("train", "query", "gallery"))
    per_2000 = wall / count * TARGET_IMAGES
    print(f"  generate : {count} images in {wall:.2f} s wall ({cpu_used:.2f} s CPU) -> {count / wall:.0f} images/s")
    print(f"  I/O floor: {count} JPEG + PNG writes in {floor:.2f} s -> {count / floor:.0f} images/s")
    print(f"  ratio generate / I/O floor: {wall / floor:.1f}x")
    verdict = "meets" if per_2000 <= TARGET_SECONDS else "MISSES"
    print(f"  time for {TARGET_IMAGES} images: {per_2000:.1f} s ({verdict} the <= {TARGET_SECONDS:.0f} s target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
