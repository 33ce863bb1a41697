"""A validation split held out from the training identities, for honest model selection.

``hold_out_validation(dataset, num_ids)`` removes ``num_ids`` training identities from training and
turns their images into a query / gallery pair: per identity and camera one image is a query, the
rest go to the gallery. Evaluated with the usual single-query protocol (same identity and camera
removed), each query is matched against the identity's images from its other cameras. The held-out
identities depend only on ``seed`` (not on the run's seed), so runs of a study share one split.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from scing_core.data.types import ReIDDataset, ReIDSample
from scing_core.errors import ConfigError

VAL_SEED = 0


def hold_out_validation(dataset: ReIDDataset, num_ids: int, min_train_ids: int = 2,
                        seed: int = VAL_SEED) -> tuple[ReIDDataset, ReIDDataset]:
    """``(train dataset without the held-out ids, relabelled 0..C-1; validation dataset)``."""
    pids = sorted({s.pid for s in dataset.train})
    if num_ids < 1 or len(pids) - num_ids < min_train_ids:
        raise ConfigError(
            f"data.val_ids={num_ids} must be between 1 and {len(pids) - min_train_ids}: the training split of "
            f"'{dataset.name}' has {len(pids)} identities and training needs at least {min_train_ids}")
    rng = np.random.default_rng(seed)
    held = {int(p) for p in rng.choice(pids, size=num_ids, replace=False)}
    kept = [p for p in pids if p not in held]
    relabel = {pid: label for label, pid in enumerate(kept)}
    train = [ReIDSample(s.path, relabel[s.pid], s.camid) for s in dataset.train if s.pid in relabel]
    query, gallery = _query_gallery([s for s in dataset.train if s.pid in held], rng)
    if not any(len({s.camid for s in gallery if s.pid == q.pid and s.camid != q.camid}) for q in query):
        raise ConfigError(f"the {num_ids} held-out identities of '{dataset.name}' are each seen by one camera only, "
                          "so no validation query has a match; raise data.val_ids")
    own = [dataset.dataset_pid("train", p) for p in range(max(pids) + 1)]   # training label -> the dataset's id
    train_ds = ReIDDataset(dataset.name, dataset.root, train, dataset.query, dataset.gallery, dataset.num_cams,
                           {**dataset.extras, "train_pids": [own[p] for p in kept]}, dataset.real_cameras)
    val_ds = ReIDDataset(f"{dataset.name}-val", dataset.root, [], query, gallery, dataset.num_cams,
                         {"held_out_ids": sorted(held), "test_pids": own}, dataset.real_cameras)
    return train_ds, val_ds


def _query_gallery(samples: list[ReIDSample], rng: np.random.Generator) -> tuple[list[ReIDSample], list[ReIDSample]]:
    by_id_cam: dict[tuple[int, int], list[ReIDSample]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: s.path):
        by_id_cam[(sample.pid, sample.camid)].append(sample)
    query, gallery = [], []
    for key in sorted(by_id_cam):
        group = by_id_cam[key]
        pick = int(rng.integers(len(group)))
        query.append(group[pick])
        gallery += group[:pick] + group[pick + 1:]
    return query, gallery
