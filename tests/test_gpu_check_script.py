"""benchmarks/gpu_check.py is the one script a session lent a GPU runs: its CPU dry run keeps it working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_dry_run_on_the_cpu_passes_every_check(tmp_path):
    out = tmp_path / "gpu_check.json"
    done = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--quick", "--steps", "1",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    report = json.loads(out.read_text())
    assert report["evaluate_rank"]["ok"] and report["evaluate_rank"]["max_ap_difference"] == 0.0
    assert [row["amp"] for row in report["stage2"]] == ["off"] and report["stage2"][0]["images_per_s"] > 0
    assert report["end_to_end"]["ok"] and report["end_to_end"]["metrics"]["synthped"]["mAP"] > 0


def test_gpu_check_without_cuda_says_how_to_run_it():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = subprocess.run([sys.executable, "benchmarks/gpu_check.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2 and "CUDA is not available" in done.stderr and "--device cpu" in done.stderr
