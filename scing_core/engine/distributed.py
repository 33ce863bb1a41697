"""DDP plumbing: process-group setup from torchrun's environment, wrapping, barriers, launching."""

from __future__ import annotations

import os
import subprocess
import sys

import torch
import torch.distributed as torch_dist
from torch import nn

from scing_core.engine.context import DistInfo


def init_from_env(device: torch.device) -> DistInfo:
    """Join the process group when started by torchrun (WORLD_SIZE > 1); NCCL on GPUs, gloo on CPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank = int(os.environ["RANK"])
    if not torch_dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch_dist.init_process_group(backend=backend)
    return DistInfo(rank=rank, world_size=world)


def local_device(device: torch.device) -> torch.device:
    """Each rank its own GPU (LOCAL_RANK) when training on CUDA."""
    if device.type == "cuda" and "LOCAL_RANK" in os.environ:
        index = int(os.environ["LOCAL_RANK"])
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    return device


def barrier(dist: DistInfo) -> None:
    if dist.enabled and torch_dist.is_initialized():
        torch_dist.barrier()


def any_rank(flag: bool, dist: DistInfo, device: torch.device) -> bool:
    """True when ``flag`` is set on any rank (one all-reduce): a stop asked of one rank (the scheduler's
    signal reaches rank 0 only) stops all of them after the same step."""
    if not dist.enabled or not torch_dist.is_initialized():
        return bool(flag)
    value = torch.tensor([1.0 if flag else 0.0], device=device if device.type == "cuda" else "cpu")
    torch_dist.all_reduce(value, op=torch_dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def wrap(module: nn.Module, dist: DistInfo, device: torch.device) -> nn.Module:
    if not dist.enabled:
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)


def shutdown(dist: DistInfo) -> None:
    if dist.enabled and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def launch(nproc: int, argv: list[str], nnodes: int = 1, node_rank: int = 0, master_addr: str = "",
           master_port: int = 0) -> int:
    """Re-run ``scing train argv`` on ``nproc`` processes of this node through torchrun
    (torch.distributed.run): ``--standalone`` on one node, the static rendezvous at ``master_addr:master_port``
    (node 0's address) across ``nnodes`` nodes, this one being ``node_rank``."""
    if nnodes > 1:
        where = [f"--nnodes={nnodes}", f"--node_rank={node_rank}", f"--master_addr={master_addr}",
                 f"--master_port={master_port}"]
    else:
        where = ["--standalone"]
    cmd = [sys.executable, "-m", "torch.distributed.run", *where, f"--nproc_per_node={nproc}",
           "-m", "scing_core.cli.train", *argv]
    return subprocess.call(cmd)
