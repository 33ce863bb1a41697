"""Occluded-DukeMTMC (Miao et al., ICCV 2019): DukeMTMC-reID re-split so that every query is
occluded; same folders and file names as DukeMTMC-reID, 8 cameras."""

from __future__ import annotations

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.market_layout import load_market_layout
from scing_core.data.types import ReIDDataset

FOLDERS = ("Occluded_Duke", "Occluded-Duke", "occluded_duke", "occluded-duke", "Occluded_DukeMTMC")


@register_dataset("occluded_duke")
def load_occluded_duke(root: str) -> ReIDDataset:
    """Occluded-Duke: Occluded_Duke/{bounding_box_train,query,bounding_box_test}/<pid>_c<cam>_f<frame>.jpg
    (DukeMTMC naming); all queries occluded; 8 cameras.
    """
    return load_market_layout(root, "occluded_duke", FOLDERS, num_cams=8)
