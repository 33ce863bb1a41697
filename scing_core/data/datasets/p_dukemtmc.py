"""P-DukeMTMC-reID (Zhuo et al., ICME 2018): occluded / whole-body pairs cut from DukeMTMC;
665 train ids (12,927 images), 634 test ids (2,163 queries, 9,053 gallery images).

Pid relabelling: the two train folders hold images of the same people, so a pid found in both
``train/whole_body_images`` and ``train/occluded_body_images`` is one identity. Train pids are
relabelled 0..N-1 over the union of the two folders, in sorted order of the original pids.
camid says the kind of image (occluded 0, whole body 1) in every split, so a query (occluded)
is never compared with a gallery image of "its own camera". These are not cameras
(``real_cameras=False``): SIE is not used on this dataset (docs/fidelity.md, "SIE").
"""

from __future__ import annotations

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.body_images import (
    OCCLUDED_CAMID,
    OCCLUDED_DIR,
    WHOLE_CAMID,
    WHOLE_DIR,
    parse_body_images,
)
from scing_core.data.datasets.common import build_dataset, find_dataset_dir, warn_unparsable
from scing_core.data.types import ReIDDataset

FOLDERS = (
    "P-DukeMTMC-reID",
    "P-DukeMTMC-reid",
    "P-DukeMTMC",
    "p_dukemtmc",
    "p-dukemtmc-reid",
    "ICME2018_Occluded-Person-Reidentification_datasets",
)
SUBDIRS = {
    "train_whole": f"train/{WHOLE_DIR}",
    "train_occluded": f"train/{OCCLUDED_DIR}",
    "query": f"test/{OCCLUDED_DIR}",
    "gallery": f"test/{WHOLE_DIR}",
}


@register_dataset("p_dukemtmc")
def load_p_dukemtmc(root: str) -> ReIDDataset:
    """P-DukeMTMC-reID: P-DukeMTMC-reID/{train,test}/{occluded_body_images,whole_body_images}/<pid>/<pid>_*.jpg;
    train = both train folders, query = test/occluded_body_images (camid 0),
    gallery = test/whole_body_images (camid 1).
    """
    ddir = find_dataset_dir(root, FOLDERS, tuple(SUBDIRS.values()), "p_dukemtmc")
    parsed, bad = {}, []
    for key, sub in SUBDIRS.items():
        camid = OCCLUDED_CAMID if OCCLUDED_DIR in sub else WHOLE_CAMID
        parsed[key], bad_here = parse_body_images(ddir / sub, camid)
        bad += bad_here
    warn_unparsable("p_dukemtmc", bad)
    splits = {
        "train": parsed["train_whole"] + parsed["train_occluded"],
        "query": parsed["query"],
        "gallery": parsed["gallery"],
    }
    folders = {"train": ddir / "train", "query": ddir / SUBDIRS["query"], "gallery": ddir / SUBDIRS["gallery"]}
    return build_dataset("p_dukemtmc", ddir, splits, folders, num_cams=2,
                         real_cameras=False)   # camid = image kind (occluded 0 / whole body 1), not a camera
