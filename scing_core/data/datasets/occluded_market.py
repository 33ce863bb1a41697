"""Occluded-Market (re-partition of MARS + Market-1501): 9,287 train images of 780 ids, all
queries occluded; MARS frames renamed to Market naming (``0001_c1s0004_011.jpg``); 6 cameras."""

from __future__ import annotations

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.market_layout import load_market_layout
from scing_core.data.types import ReIDDataset

FOLDERS = ("Occluded_Market", "Occluded-Market", "occluded_market", "occluded-market")


@register_dataset("occluded_market")
def load_occluded_market(root: str) -> ReIDDataset:
    """Occluded-Market: Occluded_Market/{occluded_train,occluded_query,bounding_box_test}/<pid>_c<cam>s<seq>_<frame>.jpg
    (Market naming); 6 cameras.
    """
    return load_market_layout(
        root,
        "occluded_market",
        FOLDERS,
        train_dir="occluded_train",
        query_dir="occluded_query",
        gallery_dir="bounding_box_test",
        num_cams=6,
    )
