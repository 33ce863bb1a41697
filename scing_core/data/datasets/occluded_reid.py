"""Occluded-REID (Zhuo et al., ICME 2018): 200 ids x (5 occluded + 5 whole-body) images taken
with mobile cameras. A test-only benchmark: the paper trains on Market-1501 and tests here."""

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
    "Occluded_REID",
    "Occluded-REID",
    "OccludedREID",
    "occluded_reid",
    "Occluded_ReID",
    "ICME2018_Occluded-Person-Reidentification_datasets",
)


@register_dataset("occluded_reid")
def load_occluded_reid(root: str) -> ReIDDataset:
    """Occluded-REID: Occluded_REID/occluded_body_images/<pid>/<pid>_<n>.tif = query (camid 0),
    Occluded_REID/whole_body_images/<pid>/<pid>_<n>.tif = gallery (camid 1); no train split.
    """
    ddir = find_dataset_dir(root, FOLDERS, (OCCLUDED_DIR, WHOLE_DIR), "occluded_reid")
    query, bad_query = parse_body_images(ddir / OCCLUDED_DIR, OCCLUDED_CAMID)
    gallery, bad_gallery = parse_body_images(ddir / WHOLE_DIR, WHOLE_CAMID)
    warn_unparsable("occluded_reid", bad_query + bad_gallery)
    folders = {"query": ddir / OCCLUDED_DIR, "gallery": ddir / WHOLE_DIR}
    return build_dataset("occluded_reid", ddir, {"query": query, "gallery": gallery}, folders, num_cams=2,
                         real_cameras=False)   # camid = image kind (occluded 0 / whole body 1), not a camera
