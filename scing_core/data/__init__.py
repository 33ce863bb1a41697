"""Datasets (one file per benchmark), SynthPed, samplers, transforms and PDCA perturbations."""

from scing_core.data.datasets import list_datasets, load_dataset, register_dataset
from scing_core.data.types import ReIDDataset, ReIDSample

__all__ = ["ReIDDataset", "ReIDSample", "list_datasets", "load_dataset", "register_dataset"]
