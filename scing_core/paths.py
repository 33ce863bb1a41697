"""Per-user folders: the demo workspace (data dir) and caches (numba, open_clip downloads)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "scing-studio"


def user_data_dir() -> Path:
    """``$SCING_STUDIO_HOME``, else ``$XDG_DATA_HOME/scing-studio``, else ``~/.local/share/scing-studio``."""
    if os.environ.get("SCING_STUDIO_HOME"):
        return Path(os.environ["SCING_STUDIO_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / APP_NAME


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/scing-studio``, else ``~/.cache/scing-studio``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / APP_NAME


def default_demo_workspace() -> Path:
    """Where `scing demo` builds, and the studio opens, the embedded demo workspace."""
    return user_data_dir() / "demo"


# Filesystems every node of a cluster sees (a multi-node run writes one run directory from all of them).
SHARED_FILESYSTEMS = ("nfs", "nfs4", "lustre", "gpfs", "beegfs", "cifs", "smb3", "smbfs", "ceph", "glusterfs",
                      "fuse.glusterfs", "fuse.sshfs", "fuse.ceph", "wekafs", "panfs", "pvfs2", "orangefs", "9p", "virtiofs")


def filesystem_type(path) -> str:
    """The type of the filesystem holding ``path`` (``/proc/mounts``; '' where that cannot be told)."""
    target = Path(path).expanduser().resolve()
    while not target.exists() and target != target.parent:
        target = target.parent
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return ""
    best, kind = "", ""
    for fields in mounts:
        if len(fields) >= 3 and (str(target) == fields[1] or str(target).startswith(fields[1].rstrip("/") + "/")):
            if len(fields[1]) >= len(best):
                best, kind = fields[1], fields[2]
    return kind


def shared_filesystem_warning(path, nodes: int) -> str:
    """'' when ``path`` can serve a run on ``nodes`` nodes, else one line saying why it may not."""
    kind = filesystem_type(path)
    if nodes <= 1 or not kind or kind in SHARED_FILESYSTEMS or kind.startswith("fuse."):
        return ""
    return (f"'{path}' is on a local filesystem ({kind}): with {nodes} nodes every node must see the run directory; "
            "put the workspace on a shared filesystem (NFS, Lustre, GPFS, ...)")
