"""DDP on CPU processes (gloo): `scing train --nproc 2` on one node, and two "nodes" on localhost
(`--nnodes 2 --node-rank 0|1`, one process each) that train the same network as the two-process run."""

import json
import os
import socket
import subprocess
import sys

import pytest

from scing_core.runs.events import read_events

from tests.support import quick_overrides

pytestmark = pytest.mark.slow


def _train(run, root, *extra, batch_ids: int = 4):
    return [sys.executable, "-m", "scing_core.cli", "train", "--config", "synthped/scing/quick", "--run-dir", str(run),
            "--plain", *extra, *quick_overrides(root, "stage2.epochs=2", f"data.ids_per_batch={batch_ids}")]


def _final(run) -> dict:
    return json.loads((run / "metrics.json").read_text())["final"]["synthped"]


@pytest.fixture(scope="module")
def two_process_run(tiny_synthped, tmp_path_factory):
    run = tmp_path_factory.mktemp("ddp") / "ddp"
    proc = subprocess.run(_train(run, tiny_synthped, "--nproc", "2"), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return run


def test_two_process_ddp_training_completes_and_only_rank0_writes(two_process_run):
    events = read_events(two_process_run / "events.jsonl")
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "completed"
    assert [e["world_size"] for e in events if e["type"] == "run_started"] == [2]
    assert sum(e["type"] == "run_started" for e in events) == 1  # rank 1 wrote nothing
    assert "synthped" in json.loads((two_process_run / "metrics.json").read_text())["final"]


def test_two_nodes_train_the_same_network_as_two_processes_on_one_node(two_process_run, tiny_synthped, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    run = tmp_path / "two-nodes"
    # torchrun gives each of `--nproc 2`'s processes one CPU thread, but a node's only process all of them: the
    # same network only with the same thread count (a matmul's sums run in another order with 2 threads than 1)
    one_thread = {**os.environ, "OMP_NUM_THREADS": "1"}
    nodes = [subprocess.Popen(_train(run, tiny_synthped, "--nnodes", "2", "--node-rank", str(rank), "--master-addr",
                                     "127.0.0.1", "--master-port", port),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=one_thread)
             for rank in (0, 1)]
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(o[-2000:] for o in outputs)
    assert "on a local filesystem" in outputs[0]   # /tmp: the warning a real cluster must not see
    events = read_events(run / "events.jsonl")
    assert [e["world_size"] for e in events if e["type"] == "run_started"] == [2]   # written once, by rank 0
    threads = [[e.get("cpu_threads") for e in read_events(r / "events.jsonl") if e["type"] == "run_started"]
               for r in (run, two_process_run)]
    assert threads[0] == threads[1] == [1]
    assert _final(run) == _final(two_process_run)


def test_one_process_with_the_same_global_batch_comes_within_two_map_points(two_process_run, tiny_synthped, tmp_path):
    """Not identical: one batch of 8 identities is not two batches of 4 (in-batch negatives, SupCon)."""
    run = tmp_path / "one"
    proc = subprocess.run(_train(run, tiny_synthped, batch_ids=8), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _final(run)["mAP"] == pytest.approx(_final(two_process_run)["mAP"], abs=0.02)
