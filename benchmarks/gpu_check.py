"""One short check to run once on a machine with a CUDA GPU (no session so far had one).

    .venv/bin/python benchmarks/gpu_check.py [--out gpu_check.json]       # on the GPU machine, ~3-5 min
    .venv/bin/python benchmarks/gpu_check.py --device cpu --quick         # dry run of the same code paths

1. environment: torch / CUDA versions, device name, memory, bf16 support;
2. ``evaluate_rank`` on CUDA tensors against the CPU result (Market-sized random problem) and its speed;
3. stage-2 training throughput of the paper's setting (ViT-B-16, 256x128, batch 64 = 16 ids x 4,
   751 classes, the engine's own ``ImageStage.run_step``) with AMP off / bf16 / fp16 + GradScaler:
   images per second and peak GPU memory (the README's GPU numbers are estimates until this runs);
4. end to end: ``scing train --config synthped/scing/quick`` on a small SynthPed with device=cuda and
   amp=auto, then ``scing eval`` — the CUDA path of the feature cache, both stages and evaluation;
5. the test suite's ``gpu``-marked tests (``pytest -m gpu``).

Multi-GPU DDP (NCCL) needs two GPUs; with one, ``--nproc`` stays untested and the report says so.
Prints one line per check and writes everything as JSON to ``--out``. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scing_core.config import resolve_config  # noqa: E402
from scing_core.data import ReIDDataset, ReIDSample  # noqa: E402
from scing_core.engine.context import TrainContext  # noqa: E402
from scing_core.runs.events import EventWriter  # noqa: E402
from scing_core.runs.layout import RunDir  # noqa: E402
from scing_core.engine.stage2 import ImageStage  # noqa: E402
from scing_core.evaluation import evaluate_rank  # noqa: E402
from scing_core.models import build_model  # noqa: E402


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def environment(device: torch.device) -> dict:
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": str(device)}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    capability=f"{props.major}.{props.minor}", bf16=torch.cuda.is_bf16_supported())
    return info


def check_evaluate_rank(device: torch.device, quick: bool) -> dict:
    """CUDA evaluation equals the CPU one; how much faster it is."""
    rng = np.random.default_rng(0)
    nq, ng, ids = (200, 1000, 50) if quick else (3368, 15913, 751)
    q_pids, g_pids = rng.integers(0, ids, nq), rng.integers(0, ids, ng)
    q_cams, g_cams = rng.integers(0, 6, nq), rng.integers(0, 6, ng)
    distmat = rng.random((nq, ng), dtype=np.float32)
    start = time.perf_counter()
    on_cpu = evaluate_rank(distmat, q_pids, g_pids, q_cams, g_cams)
    cpu_s = time.perf_counter() - start
    tensors = [torch.as_tensor(v).to(device) for v in (distmat, q_pids, g_pids, q_cams, g_cams)]
    evaluate_rank(*tensors)   # warm-up (kernels, allocator)
    synchronize(device)
    start = time.perf_counter()
    on_device = evaluate_rank(*tensors)
    synchronize(device)
    device_s = time.perf_counter() - start
    ap_diff = float(np.nanmax(np.abs(on_device.ap - on_cpu.ap)))
    ok = ap_diff < 1e-9 and np.array_equal(on_device.first_hit, on_cpu.first_hit)
    return {"ok": bool(ok), "shape": [nq, ng], "max_ap_difference": ap_diff, "cpu_s": round(cpu_s, 3),
            "device_s": round(device_s, 3), "speedup": round(cpu_s / device_s, 1)}


def stage2_throughput(device: torch.device, amp: str, quick: bool, steps: int) -> dict:
    """Images per second and peak memory of the engine's stage-2 step on random images."""
    arch, size, classes, ids, per_id = ("scing-tiny", (64, 32), 16, 4, 2) if quick else ("ViT-B-16", (256, 128), 751, 16, 4)
    cfg = resolve_config("market1501/scing", ["model.pretrained=", f"model.arch={arch}", "model.sie=false",
                                              f"device={device.type}", f"amp={amp}",
                                              f"data.image_size=[{size[0]},{size[1]}]",
                                              f"data.ids_per_batch={ids}", f"data.instances_per_id={per_id}",
                                              "data.num_workers=0"])
    torch.manual_seed(0)
    model = build_model(cfg, classes, 6).to(device)
    train = [ReIDSample(f"/none/{i}.jpg", i % classes, i % 6) for i in range(classes * per_id)]
    batch_size = ids * per_id
    pids = torch.arange(ids).repeat_interleave(per_id)
    batch = (torch.randn(batch_size, 3, *size), pids, torch.zeros(batch_size, dtype=torch.long), [""] * batch_size)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir.at(tmp)
        ctx = TrainContext(cfg, run, model, ReIDDataset("bench", tmp, train, [], [], 6), device,
                           EventWriter(run.events, enabled=False))
        with torch.no_grad():
            embed = model.encode_image(batch[0][:2].to(device)).proj.shape[1]
        stage = ImageStage.from_context(ctx, torch.nn.functional.normalize(torch.randn(classes, embed), dim=1))
        for _ in range(2):   # warm-up
            stage.run_step(batch)
        synchronize(device)
        start = time.perf_counter()
        for _ in range(steps):
            parts = stage.run_step(batch)
        synchronize(device)
        seconds = (time.perf_counter() - start) / steps
    out = {"arch": arch, "image_size": list(size), "batch": batch_size, "amp": amp,
           "autocast_dtype": str(ctx.amp_dtype).replace("torch.", "") if ctx.amp_dtype else "off",
           "step_ms": round(1000 * seconds, 1), "images_per_s": round(batch_size / seconds, 1),
           "finite_loss": bool(all(np.isfinite(float(v)) for v in parts.values()))}
    if device.type == "cuda":
        out["peak_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    out["ok"] = out["finite_loss"]
    return out


def end_to_end(device: torch.device, quick: bool) -> dict:
    """`scing train` (both stages) and `scing eval` on a small SynthPed, on the device."""
    scing = [sys.executable, "-m", "scing_core.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        data, run = Path(tmp) / "synthped", Path(tmp) / "run"
        ids = 16 if quick else 60
        commands = [
            [*scing, "synth", "--out", str(data), "--ids", str(ids), "--images-per-id", "6", "--size", "128x64"],
            [*scing, "train", "--config", "synthped/scing/quick", "--run-dir", str(run), "--data-root", str(data),
             f"device={device.type}", "amp=auto", "data.image_size=[128,64]",
             *(["stage1.epochs=2", "stage2.epochs=2"] if quick else [])],
            [*scing, "eval", "--run-dir", str(run), "--flip"],
        ]
        start = time.perf_counter()
        for command in commands:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                return {"ok": False, "failed": " ".join(command[2:4]), "stderr": done.stderr[-1500:]}
        metrics = json.loads((run / "metrics.json").read_text())
        return {"ok": True, "seconds": round(time.perf_counter() - start, 1), "metrics": metrics.get("final", metrics)}


def gpu_tests() -> dict:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider"], cwd=ROOT,
                          capture_output=True, text=True)
    return {"ok": done.returncode == 0, "summary": (done.stdout.strip().splitlines() or [""])[-1]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu (a dry run of the same code paths)")
    ap.add_argument("--quick", action="store_true", help="small sizes (the CPU dry run)")
    ap.add_argument("--steps", type=int, default=10, help="timed stage-2 steps per precision (default 10)")
    ap.add_argument("--out", default="gpu_check.json", help="where to write the results as JSON")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: CUDA is not available on this machine; run it where a GPU is, or --device cpu --quick "
              "for a dry run", file=sys.stderr)
        return 2
    report = {"environment": environment(device)}
    print(json.dumps(report["environment"]))
    report["evaluate_rank"] = check_evaluate_rank(device, args.quick)
    print("evaluate_rank:", json.dumps(report["evaluate_rank"]))
    precisions = ["off", "bf16", "fp16"] if device.type == "cuda" else ["off"]
    report["stage2"] = [stage2_throughput(device, amp, args.quick, args.steps) for amp in precisions]
    for row in report["stage2"]:
        print("stage 2:", json.dumps(row))
    report["end_to_end"] = end_to_end(device, args.quick)
    print("end to end:", json.dumps(report["end_to_end"]))
    if device.type == "cuda":
        report["gpu_tests"] = gpu_tests()
        print("pytest -m gpu:", report["gpu_tests"]["summary"])
    report["ddp"] = (f"{torch.cuda.device_count()} GPU(s): NCCL DDP needs at least 2; not checked"
                     if device.type == "cuda" and torch.cuda.device_count() < 2 else
                     "run `scing train ... --nproc 2` by hand to check NCCL DDP")
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    failed = [name for name, value in report.items()
              if (isinstance(value, dict) and value.get("ok") is False)
              or (isinstance(value, list) and any(not v.get("ok") for v in value))]
    print(f"written to {args.out}; " + (f"FAILED: {', '.join(failed)}" if failed else "all checks passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
