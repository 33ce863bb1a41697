"""``scing train``: two-stage training of clipreid / cocoop / scing into a run directory."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from scing_core.cli import run_main
from scing_core.cli.options import add_data_root, add_launcher, add_run_dir, add_verbose, launcher_settings, parse_args
from scing_core.cli.console import ConsoleProgress
from scing_core.config import dump_yaml, list_presets, load_config, resolve_config, save_config
from scing_core.paths import shared_filesystem_warning
from scing_core.runs.layout import RunDir
from scing_core.errors import ConfigError, RunDirError

EPILOG = """\
presets: DATASET/METHOD[/VARIANT...] composed from resources/configs, e.g.
  occluded_duke/scing              the paper's Occluded-Duke row (Table 2; Table 3 row 4)
  occluded_duke/scing/pdca_off     Table 3 row 3 (SVIP without PDCA)
  occluded_duke/cocoop             Table 3 row 2 (+ meta-net)
  occluded_duke/clipreid/ablation  Table 3 row 1 (CLIP-ReID's prompts under the SCING recipe)
  market1501/clipreid              CLIP-ReID's official recipe (ViT-B-16 + SIE + overlapping patches)
  synthped/scing/quick             a few-minute CPU run on SynthPed (tiny model)
every choice and its source: docs/fidelity.md
or a YAML file (which may start from others with `_base_: [a.yaml, b.yaml]`).

overrides: key=value with dotted keys, e.g. stage1.epochs=10 model.stride=16 data.root=/datasets
  model_selection=final|test|val (the checkpoint the run reports; val needs data.val_ids=N)
precedence: defaults < preset < overrides. `--print-config` shows the result.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scing train", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="preset name (DATASET/METHOD[/VARIANT...]) or YAML file")
    add_run_dir(p, "where the run writes config, events, checkpoints, metrics", required=False)
    add_data_root(p, "dataset folder or its parent (same as data.root=...)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from checkpoints/last.pt")
    p.add_argument("--nproc", type=int, default=1, help="processes for DDP on this node (torchrun; NCCL on GPUs, gloo on CPU)")
    p.add_argument("--nnodes", type=int, default=1, help="nodes of a multi-node DDP run (run this command on each)")
    p.add_argument("--node-rank", type=int, default=0, help="this node's rank, 0..nnodes-1 (node 0 writes the run directory)")
    p.add_argument("--master-addr", default="", help="node 0's address (multi-node)")
    p.add_argument("--master-port", type=int, default=29500, help="a free port on node 0 (multi-node; default 29500)")
    p.add_argument("--stop", action="store_true", help="stop what trains --run-dir (a process or a scheduler job) "
                                                        "after its current step, with a checkpoint")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    p.add_argument("--list-presets", action="store_true", help="list preset names and exit")
    p.add_argument("--plain", action="store_true", help="plain progress lines even on a terminal")
    add_verbose(p)
    add_launcher(p)
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    return p


def resolve(args) -> "TrainConfig":  # noqa: F821
    overrides = list(args.overrides)
    if args.data_root:
        overrides.append(f"data.root={args.data_root}")
    if args.resume:
        if overrides:
            raise ConfigError("overrides cannot be combined with --resume: the run continues with its saved config.yaml")
        config = RunDir.at(args.run_dir).config
        if int(os.environ.get("GROUP_RANK", "0")) > 0:   # a worker of node > 0: node 0 writes it
            _wait_for(config, CONFIG_WAIT_S)
        return load_config(config)
    if not args.config and not args.print_config:
        raise ConfigError("no --config given; pick a preset from `scing train --list-presets` or pass a YAML file")
    return resolve_config(args.config, overrides)


def _report_finished(run_dir, cfg) -> bool:
    """Say so and return True when ``--resume`` names a run that already completed (nothing to do)."""
    from scing_core.runs.lock import describe_holder, lock_holder   # here: with the next line, ~5 % of --help
    from scing_core.runs.trained import TrainedRun   # here: see the line above

    run = RunDir.at(run_dir)
    holder = lock_holder(run.root)
    if holder is not None:
        raise RunDirError(describe_holder(run.root, holder))
    final = TrainedRun(run).final_metrics()
    if final is None:
        return False
    scores = ", ".join(f"{label}: mAP {100 * m['mAP']:.1f} R1 {100 * m['R1']:.1f}" for label, m in final.items())
    print(f"run {run.root} already finished ({cfg.stage2.epochs} stage-2 epochs); nothing to resume. {scores}")
    return True


CONFIG_WAIT_S = 300.0


def _wait_for(path, seconds: float) -> None:
    """Wait (polling) for node 0 to write ``path``; a clear error when it does not appear."""
    deadline = time.time() + seconds
    while not path.exists():
        if time.time() > deadline:
            raise RunDirError(f"node 0 has not written '{path}' within {seconds:.0f} s; the run directory must be on a "
                              "filesystem every node shares (docs/cluster.md)")
        time.sleep(0.5)


def _launch_distributed(args, cfg) -> int:
    """Write the run's config here (node 0), then start this node's workers, which pick it up with --resume."""
    from scing_core.engine.distributed import launch   # here: torch loads, not with --help

    run = RunDir.at(args.run_dir)
    if args.node_rank == 0:
        run.prepare(args.resume)
        if not args.resume:
            save_config(cfg, run.config)
    warning = shared_filesystem_warning(run.root, args.nnodes)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    extra = (["--plain"] if args.plain else []) + (["-v"] if args.verbose else [])
    return launch(args.nproc, ["--run-dir", str(run.root), "--resume", *extra], args.nnodes, args.node_rank,
                  args.master_addr, args.master_port)


def _check_nodes(args) -> None:
    if args.nproc < 1 or args.nnodes < 1:
        which, value = ("--nproc", args.nproc) if args.nproc < 1 else ("--nnodes", args.nnodes)
        raise ConfigError(f"{which} must be >= 1 ({'processes per node' if which == '--nproc' else 'nodes'}), got {value}")
    if not 0 <= args.node_rank < args.nnodes:
        raise ConfigError(f"--node-rank must be in 0..{args.nnodes - 1}, got {args.node_rank}")
    if args.nnodes > 1 and not args.master_addr:
        raise ConfigError("a multi-node run needs --master-addr (node 0's address, the same on every node)")


def _submit(args, cfg, settings) -> int:
    """``--launcher local|slurm``: the run as one job (Slurm: submitted, returns at once)."""
    from scing_core.pipeline.launchers import check_launcher_available, prepare_for_submission, submit   # here: ~25 ms of --help

    check_launcher_available(settings)
    run = RunDir.at(args.run_dir)
    prepare_for_submission(run, cfg)
    (record,) = submit([run], settings, run.submitit, name=run.root.name)
    if settings.kind == "slurm":
        print(f"submitted {run.root} as Slurm job {record.job_id}; follow it in the studio or with "
              f"`tail -f {run.events}`; stop it with `scing train --stop --run-dir {run.root}`")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(build_parser(), argv)
    if args.list_presets:
        print("\n".join(list_presets()))
        return 0
    if args.stop:
        if not args.run_dir:
            raise ConfigError("--stop needs --run-dir")
        from scing_core.pipeline.launchers import stop_run   # here: ~25 ms of --help

        print(stop_run(RunDir.at(args.run_dir)))
        return 0
    cfg = resolve(args)
    if args.print_config:
        print(dump_yaml(cfg), end="")
        return 0
    if not args.run_dir:
        raise ConfigError("--run-dir is required to train")
    _check_nodes(args)
    if args.resume and "WORLD_SIZE" not in os.environ and _report_finished(args.run_dir, cfg):
        return 0
    settings = launcher_settings(args)
    if settings.kind != "inline" and "WORLD_SIZE" not in os.environ:
        return _submit(args, cfg, settings)
    if (args.nproc > 1 or args.nnodes > 1) and "WORLD_SIZE" not in os.environ:
        return _launch_distributed(args, cfg)
    from scing_core.engine.run import train   # here: torch loads, not with --help
    from scing_core.pipeline.training import cpu_threads

    holder: list = []

    def stop(reason: str):
        def handler(*_):
            if not holder:
                sys.exit(143)
            holder[0].stop_reason, holder[0].stop_requested = reason, True
        return handler

    # SIGTERM: a stop (Stop in the studio, kill); SIGUSR2: Slurm's pre-timeout signal (--signal=USR2@90) to a
    # plain sbatch job: both checkpoint after the current step (docs/cluster.md requeues the second)
    previous = {sig: signal.signal(sig, stop(reason))
                for sig, reason in ((signal.SIGTERM, "requested"), (signal.SIGUSR2, "preempted"))}
    try:
        with cpu_threads(settings.threads):
            train(cfg, args.run_dir, resume=args.resume, hooks=[ConsoleProgress(force_plain=args.plain or None)],
                  ctx_out=holder)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":  # torchrun workers run this module
    sys.exit(run_main(main, sys.argv[1:]))
