"""Stand-in Slurm commands for tests: sbatch, sacct, scancel, scontrol, srun, sinfo, squeue.

They run the submitted job on this machine and report its state as Slurm would, so the slurm
launcher (submitit's SlurmExecutor) is exercised end to end without a cluster. State lives in
``$FAKE_SLURM_DIR`` (one JSON file per job or array task). Supported: job arrays with ``%N``
parallelism, ``--ntasks-per-node`` tasks (srun starts one process per task), ``scancel [--signal]``,
``scontrol requeue`` (the task runs again once its process exits), ``sacct -o JobID,State,NodeList``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

STATE = Path(os.environ.get("FAKE_SLURM_DIR", "/tmp/fake-slurm"))
PARTITIONS = ("debug", "gpu")
FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT")


def _task_file(tid: str) -> Path:
    return STATE / "tasks" / f"{tid}.json"


def _read(tid: str) -> dict:
    return json.loads(_task_file(tid).read_text())


def _write(tid: str, data: dict) -> None:
    path = _task_file(tid)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _update(tid: str, **changes) -> dict:
    data = {**_read(tid), **changes}
    _write(tid, data)
    return data


def _options(script: str) -> dict:
    out = {}
    for line in script.splitlines():
        match = re.match(r"#SBATCH --([\w-]+)(?:=(.*))?$", line.strip())
        if match:
            out[match.group(1)] = shlex.split(match.group(2))[0] if match.group(2) else True
    return out


def sbatch(args: list[str]) -> int:
    script_path = Path(args[-1])
    options = _options(script_path.read_text())
    if options.get("partition") and options["partition"] not in PARTITIONS:
        print(f"sbatch: error: invalid partition specified: {options['partition']}", file=sys.stderr)
        return 1
    (STATE / "tasks").mkdir(parents=True, exist_ok=True)
    counter = STATE / "counter"
    job = int(counter.read_text()) + 1 if counter.exists() else 1000
    counter.write_text(str(job))
    indices, parallel = [None], 1
    if "array" in options:
        spec, _, limit = str(options["array"]).partition("%")
        first, _, last = spec.partition("-")
        indices = list(range(int(first), int(last or first) + 1))
        parallel = int(limit) if limit else len(indices)
    for idx in indices:
        tid = f"{job}" if idx is None else f"{job}_{idx}"
        _write(tid, {"job": job, "index": idx, "state": "PENDING", "script": str(script_path.resolve()),
                     "cwd": os.getcwd(), "options": options,
                     "pid": None, "requeue": False, "runs": 0})
    (STATE / f"{job}.json").write_text(json.dumps({"tasks": [f"{job}" if i is None else f"{job}_{i}" for i in indices],
                                                   "parallel": parallel}))
    subprocess.Popen([sys.executable, __file__, "_runner", str(job)], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=open(STATE / f"{job}.runner.log", "a"))
    print(f"Submitted batch job {job}")
    return 0


def _run_task(tid: str) -> None:
    while True:
        data = _read(tid)
        if data["state"] in FINAL:
            return
        options = data["options"]
        nodes = int(options.get("nodes", 1))
        ntasks = nodes * int(options.get("ntasks-per-node", 1))
        env = {**os.environ, "SLURM_JOB_NUM_NODES": str(nodes), "SLURM_NTASKS": str(ntasks),
               "SLURM_JOB_NODELIST": "localhost", "SLURM_NODEID": "0", "SLURM_CPUS_PER_TASK": str(options.get("cpus-per-task", 1)),
               "SLURM_SUBMIT_DIR": os.getcwd(), "SLURM_RESTART_COUNT": str(data["runs"])}
        if data["index"] is None:
            env["SLURM_JOB_ID"] = str(data["job"])
        else:
            env.update(SLURM_JOB_ID=str(data["job"] * 1000 + data["index"] + 1), SLURM_ARRAY_JOB_ID=str(data["job"]),
                       SLURM_ARRAY_TASK_ID=str(data["index"]))
        output = str(options.get("output", "slurm-%j.out")).replace("%j", env["SLURM_JOB_ID"]).replace(
            "%x", str(options.get("job-name", "job")))
        with open(Path(data["cwd"]) / output if not output.startswith("/") else output, "a") as log:
            proc = subprocess.Popen(["bash", data["script"]], env=env, start_new_session=True, cwd=data["cwd"],
                                    stdout=log, stderr=subprocess.STDOUT)
        _update(tid, state="RUNNING", pid=proc.pid, runs=data["runs"] + 1, requeue=False)
        code = proc.wait()
        data = _read(tid)
        if data["state"] == "CANCELLED":
            return
        if data["requeue"]:
            _update(tid, state="PENDING", pid=None)
            continue
        _update(tid, state="COMPLETED" if code == 0 else "FAILED", pid=None, exit_code=code)
        return


def runner(args: list[str]) -> int:
    meta = json.loads((STATE / f"{args[0]}.json").read_text())
    with ThreadPoolExecutor(max_workers=meta["parallel"]) as pool:
        list(pool.map(_run_task, meta["tasks"]))
    return 0


def srun(args: list[str]) -> int:
    out = err = None
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag in ("--output", "--error"):
            value = args.pop(0)
            out, err = (value, err) if flag == "--output" else (out, value)
    ntasks = int(os.environ.get("SLURM_NTASKS", "1"))
    procs = []
    for rank in range(ntasks):
        env = {**os.environ, "SLURM_PROCID": str(rank), "SLURM_LOCALID": str(rank), "SLURM_STEP_ID": "0"}

        def path(pattern):
            for key, value in (("%A", env.get("SLURM_ARRAY_JOB_ID", "")), ("%a", env.get("SLURM_ARRAY_TASK_ID", "")),
                               ("%j", env["SLURM_JOB_ID"]), ("%t", str(rank))):
                pattern = pattern.replace(key, value)
            return open(pattern, "a")

        procs.append(subprocess.Popen(args, env=env, stdout=path(out) if out else None,
                                      stderr=path(err) if err else None))
    steps = STATE / "steps"
    steps.mkdir(parents=True, exist_ok=True)
    record = steps / f"{os.environ['SLURM_JOB_ID']}.pids"   # scancel --signal reaches the steps, as in Slurm
    record.write_text("\n".join(str(p.pid) for p in procs))
    try:
        return max(p.wait() for p in procs)
    finally:
        record.unlink(missing_ok=True)


def _tasks_of(ident: str) -> list[str]:
    if "_" in ident:
        return [ident]
    meta = STATE / f"{ident}.json"
    return json.loads(meta.read_text())["tasks"] if meta.exists() else []


def scancel(args: list[str]) -> int:
    sig = None
    if "--signal" in args:
        at = args.index("--signal")
        sig = args[at + 1]
        args = args[:at] + args[at + 2:]
    sig = next((a.split("=", 1)[1] for a in args if a.startswith("--signal=")), sig)
    for ident in [a for a in args if not a.startswith("-")]:
        for tid in _tasks_of(ident):
            data = _read(tid)
            if sig is None:
                _update(tid, state="CANCELLED")
                if data["pid"]:
                    _kill(data["pid"], signal.SIGTERM)
            elif data["pid"]:
                number = getattr(signal, sig if sig.startswith("SIG") else "SIG" + sig)
                step_pids = _step_pids(data)
                if step_pids and "--batch" not in args and "--full" not in args:
                    for pid in step_pids:
                        _kill_one(pid, number)
                else:
                    _kill(data["pid"], number)
    return 0


def _step_pids(data: dict) -> list[int]:
    job_id = str(data["job"]) if data["index"] is None else str(data["job"] * 1000 + data["index"] + 1)
    record = STATE / "steps" / f"{job_id}.pids"
    try:
        return [int(p) for p in record.read_text().split()]
    except OSError:
        return []


def _kill_one(pid: int, sig) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _kill(pid: int, sig) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def scontrol(args: list[str]) -> int:
    if args[:2] == ["show", "hostnames"]:
        print("localhost")   # the one node every job of the stand-in runs on
        return 0
    if args[:1] != ["requeue"]:
        print(f"scontrol: {' '.join(args)} is not supported by the stand-in", file=sys.stderr)
        return 1
    for ident in args[1:]:
        tids = _tasks_of(ident) if "_" in ident or (STATE / f"{ident}.json").exists() else _by_job_id(ident)
        for tid in tids:
            if _read(tid)["state"] in FINAL:
                print(f"scontrol: error: Job {ident} has already finished", file=sys.stderr)
                return 1
            _update(tid, requeue=True, state="REQUEUED")
    return 0


def _by_job_id(job_id: str) -> list[str]:
    """An array task addressed by its own SLURM_JOB_ID."""
    number = int(job_id)
    return [f"{number // 1000}_{number % 1000 - 1}"] if _task_file(f"{number // 1000}_{number % 1000 - 1}").exists() else []


def sacct(args: list[str]) -> int:
    ids = [args[i + 1] for i, a in enumerate(args) if a == "-j"]
    print("JobID|State|NodeList")
    for ident in ids:
        for tid in _tasks_of(ident.split("_")[0]):
            data = _read(tid)
            node = "localhost" if data["state"] != "PENDING" else "None assigned"
            print(f"{tid}|{data['state']}|{node}")
    return 0


def squeue(args: list[str]) -> int:
    print("JOBID STATE")
    for path in sorted((STATE / "tasks").glob("*.json")):
        data = json.loads(path.read_text())
        if data["state"] not in FINAL:
            print(f"{path.stem} {data['state']}")
    return 0


def sinfo(args: list[str]) -> int:
    print("\n".join(p + ("*" if i == 0 else "") for i, p in enumerate(PARTITIONS)))
    return 0


COMMANDS = {"sbatch": sbatch, "srun": srun, "scancel": scancel, "scontrol": scontrol, "sacct": sacct,
            "squeue": squeue, "sinfo": sinfo, "_runner": runner}

if __name__ == "__main__":
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
