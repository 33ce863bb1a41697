"""``scing eval``: evaluate a run's checkpoint and write RUN_DIR/eval/<dataset>/ artefacts.

Writes query/gallery features, the top-k gallery indices and distances per query (junk flagged),
per-query AP and first-hit rank, and metrics.json (mAP, CMC@1/5/10) of the run's inference
descriptor (model.test_feature); every descriptor's mAP / R1 (concat = CLIP-ReID's pre_proj ++
proj, proj = the paper's g_p, pre_proj) is reported beside it, from the same forward passes.
"""

from __future__ import annotations

import argparse
import dataclasses

from scing_core.cli.options import (add_checkpoint, add_data_root, add_device, add_json,
                                     add_run_dir, add_verbose, parse_args, print_json)
from scing_core.data import load_dataset
from scing_core.engine.evaluate import evaluate_model
from scing_core.data.configured import test_datasets
from scing_core.runs.trained import load_run_model
from scing_core.atomic import check_writable_folder, write_json_atomic
from scing_core.runs.layout import RunDir
from scing_core.config import load_config
from scing_core.errors import ConfigError
from scing_core.evaluation import Reranking


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_dir(p)
    add_checkpoint(p)
    p.add_argument("--dataset", help="evaluate on this dataset instead of the run's test datasets")
    add_data_root(p, "dataset folder of --dataset (default: the run's data.root)")
    p.add_argument("--rerank", action="store_true",
                   help="k-reciprocal re-ranking, by default with CLIP-ReID's k1=50, k2=15, lambda=0.3 (its "
                        "R1_mAP_eval; Zhong et al.'s own: --k1 20 --k2 6); printed with every re-ranked number")
    p.add_argument("--k1", type=int, help="re-ranking: k-reciprocal neighbourhood (default 50)")
    p.add_argument("--k2", type=int, help="re-ranking: query-expansion neighbours (default 15)")
    p.add_argument("--lambda", type=float, dest="lambda_value",
                   help="re-ranking: weight of the original distance (default 0.3)")
    p.add_argument("--precision", choices=("fp32", "amp"),
                   help="feature extraction: fp32 (default, as CLIP-ReID's test) or amp (the run's autocast on a GPU: "
                        "faster; mAP differs in the last digits)")
    p.add_argument("--flip", action="store_true", help="average each descriptor with its horizontal flip")
    add_device(p)
    add_json(p, "the metrics")
    p.add_argument("--strict", action="store_true", help="fail when any image cannot be read (default: skip it, "
                                                        "counted in the summary)")
    add_verbose(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv)
    if args.data_root and not args.dataset:
        raise ConfigError("--data-root needs --dataset (the dataset it belongs to)")
    given = {k: v for k, v in (("k1", args.k1), ("k2", args.k2), ("lambda_value", args.lambda_value)) if v is not None}
    if given and not args.rerank:
        raise ConfigError("--k1 / --k2 / --lambda are the re-ranking's parameters: add --rerank")
    rerank = Reranking(**given).check() if args.rerank else None
    RunDir.at(args.run_dir).require()
    check_writable_folder(RunDir.at(args.run_dir).eval, "eval folder")  # before any feature is extracted
    run = RunDir.at(args.run_dir)
    saved = load_config(run.config)   # the datasets, before the model loads: every output folder checked first
    if args.dataset:
        targets = [(args.dataset, load_dataset(args.dataset, args.data_root or saved.data.root))]
    else:
        targets = test_datasets(saved)
    suffix = (rerank.folder_suffix() if rerank else "") + ("_flip" if args.flip else "")
    for label, _ in targets:   # a folder of an earlier evaluation made read-only: said before any extraction
        check_writable_folder(run.eval / f"{label}{suffix}", f"eval folder of {label}")
    model, cfg, path = load_run_model(args.run_dir, args.checkpoint, args.device)
    device = next(model.parameters()).device
    if args.precision:
        cfg = dataclasses.replace(cfg, eval_precision=args.precision)
    results = {}
    for label, dataset in targets:
        out = run.eval / f"{label}{suffix}"
        outcome = evaluate_model(model, dataset, cfg, device, out_dir=out, flip=args.flip, rerank=rerank or False,
                                 progress=not args.json, label=label, descriptors=True, strict=args.strict)
        results[label] = {**outcome.metrics, "checkpoint": str(path), "eval_dir": str(out)}
        if not args.json:
            m = outcome.metrics
            print(f"{label}: mAP {100 * m['mAP']:.2f}  R1 {100 * m['R1']:.2f}  R5 {100 * m['R5']:.2f}  "
                  f"R10 {100 * m['R10']:.2f}  ({m['num_query']} queries, {m['num_gallery']} gallery) -> {out}")
            if rerank:
                print(f"  {rerank.describe()}")
            others = "  ".join(f"{name}{' (used)' if name == m['descriptor'] else ''} {100 * d['mAP']:.2f} / "
                               f"{100 * d['R1']:.2f}" for name, d in m.get("descriptors", {}).items())
            if others:
                print(f"  descriptors, mAP / R1: {others}")
            if m["skipped"]:
                print(f"  skipped {m['skipped']} unreadable image(s), e.g. {', '.join(m['skipped_paths'][:3])} "
                      "(`scing data check` lists them; --strict makes this an error)")
    write_json_atomic(run.eval / "last_eval.json", results)
    if args.json:
        print_json(results)
    return 0
