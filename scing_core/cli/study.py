"""``scing study``: train a plan's rows x seeds into a workspace and write paired statistics.

    scing study --plan study/table3-synthped --workspace ~/studies        # CPU, ~25 min
    scing study --plan study/table3-synthped --workspace W --launcher local --parallel 2
    scing study --plan study/table3-occluded-duke --workspace W --data-root /datasets --launcher slurm \\
                --partition gpu --gpus-per-run 1 --time-min 720
    scing study --status W/studies/table3-occluded-duke [--collect]
    scing study --list
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from scing_core.cli import setup_logging
from scing_core.errors import InputError
from scing_core.cli.options import add_data_root, add_device, add_launcher, add_verbose, launcher_settings
from scing_core.pipeline import StopFlag

DESCRIPTION = """\
Run a study plan: every row (a preset) with every seed, each a run directory under
WORKSPACE/studies/<plan>/runs/<row>-s<seed>/, then study.json and study.md beside them: per row the
mean and 95 % CI over seeds of mAP and R1 on each test set, per pair of rows (each row against the
reference, and each against the row before it) the paired per-query ΔAP with a bootstrap CI, the
per-seed ΔmAP and a sign test over seeds. A plan with `data: demo` builds (or reuses) the demo's
SynthPed data and SynthCLIP in the workspace first. Finished runs are skipped and interrupted ones
resumed with --resume (which also adds seeds: --seeds 8 on a 5-seed study trains 3 more per row, and
resubmits only the runs that are neither done nor queued). Ctrl-C or SIGTERM stops after the current
training step, with a checkpoint.

Launchers (docs/cluster.md): inline (default) trains in this process, one run after another; local runs
--parallel N processes on this machine, each with its share of the CPU threads; slurm submits one job
per run (a job array) through submitit and returns; follow it with --status, which prints each run's
state (queued, running, done, failed, preempted), job id, node, epoch and last error, and with
--collect writes study.json / study.md once every run is done. A preempted or timed-out run checkpoints
and requeues itself."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing study", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plan", help="study/NAME (resources/configs/studies/NAME.yaml) or a plan YAML file")
    p.add_argument("--workspace", help="folder the study is written into (WORKSPACE/studies/<plan>/)")
    p.add_argument("--seeds", type=int, metavar="N", help="seeds 0..N-1 (default: the plan's)")
    p.add_argument("--resume", action="store_true", help="continue a study folder that exists (or add seeds to it)")
    p.add_argument("--status", metavar="STUDY_DIR", help="print where each run of WORKSPACE/studies/<plan> stands")
    p.add_argument("--collect", action="store_true", help="with --status: write study.json / study.md once all are done")
    add_device(p, "; every run")
    p.add_argument("--nproc", type=int, default=1, help="inline launcher: processes per run (DDP through torchrun)")
    add_data_root(p, "dataset folder for plans without `data: demo` (default: the presets')")
    add_launcher(p)
    p.add_argument("--list", action="store_true", help="list the shipped plans and exit")
    p.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    add_verbose(p)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scing study``: 0 when the study finished (or was submitted), 130 when stopped early."""
    args = build_parser().parse_args(argv)
    from scing_core.study.plan import list_plans, load_plan
    from scing_core.study.runner import StudyOptions, run_study   # here: torch loads, not with --help

    if args.list:
        for name in list_plans():
            print(f"{name:32s} {load_plan(name).title}")
        return 0
    if args.status:
        return _status(Path(args.status), args.collect)
    if not args.plan or not args.workspace:
        raise InputError("scing study needs --plan (see `scing study --list`) and --workspace DIR, or --status DIR")
    if args.seeds is not None and args.seeds < 1 or args.nproc < 1:
        raise InputError("--seeds and --nproc must be >= 1")
    if args.verbose:
        setup_logging(True)
    else:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from scing_core.cli.pipeline_view import ConsolePipelineProgress, install_stop_handlers   # here: ~30 ms of --help
    from scing_core.pipeline.launchers import check_launcher_available, describe   # here: ~25 ms of --help

    plan = load_plan(args.plan, seeds=args.seeds)
    launcher = launcher_settings(args, plan.launcher)
    check_launcher_available(launcher)
    options = StudyOptions(device=args.device, nproc=args.nproc, data_root=args.data_root, launcher=launcher)
    stop = StopFlag()
    previous = install_stop_handlers(stop)
    progress = ConsolePipelineProgress(plain=True if args.plain else None, label="study")
    try:
        result = run_study(plan, args.workspace, resume=args.resume, options=options, progress=progress, stop=stop)
    finally:
        progress.close()
        for sig, old in previous.items():
            signal.signal(sig, old)
    if result.stopped:
        print(f"stopped; run `scing study --plan {args.plan} --workspace {args.workspace} --resume` to continue",
              file=sys.stderr)
        return 130
    if result.submitted:
        print(f"submitted {len(result.jobs)} runs:\n{describe(result.jobs)}\n"
              f"follow them:   scing study --status {result.folder.root}\n"
              f"when all done: scing study --status {result.folder.root} --collect\n"
              f"retry failed:  scing study --plan {args.plan} --workspace {args.workspace} --resume --launcher slurm")
        return 0
    print(result.folder.markdown.read_text(encoding="utf-8"))
    print(f"study: {result.folder.root}  ({result.seconds / 60:.1f} min)", file=sys.stderr)
    return 0


def _status(study_dir: Path, collect: bool) -> int:
    """``--status [--collect]``: 0 when every run is done (and, with --collect, the statistics written)."""
    from scing_core.study.follow import follow_study   # here: torch loads (the study package), not with --help

    report = follow_study(study_dir, collect)
    print(report.table)
    if report.written:
        print(f"\nwrote {report.written}")
    elif collect:
        print(f"\nnot collected: {report.not_done} runs are not done yet", file=sys.stderr)
    return 0 if report.all_done else 1
