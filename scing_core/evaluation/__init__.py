"""Evaluation and retrieval: ranking metrics, distances, re-ranking, FAISS search, ROC data,
feature extraction and the eval artefacts a run directory keeps for the GUI.

Public names (contracts, see docs/design.md):

- :func:`evaluate_rank` -> :class:`RankResult` (Market-1501 protocol, exact and vectorised)
- :func:`compute_distance` (cosine / euclidean on L2-normalised features)
- :func:`k_reciprocal_rerank` (Zhong et al. 2017, memory-aware)
- :func:`topk_search` (brute force, FAISS flat inner product, FAISS IVF)
- :func:`pair_distance_histograms`, :func:`roc_curve` (data for plots)
- :func:`extract_features` -> :class:`FeatureSet`
- :func:`evaluate_features`, :func:`save_eval_artifacts`, :func:`load_eval_artifacts` -> :class:`EvalArtifacts`
"""

from scing_core.evaluation.artifacts import EvalArtifacts, evaluate_features, load_eval_artifacts, save_eval_artifacts
from scing_core.evaluation.distances import compute_distance, l2_normalize
from scing_core.evaluation.features import FeatureSet, evaluation_amp, extract_features
from scing_core.evaluation.index import topk_search
from scing_core.evaluation.metrics import RankResult, evaluate_rank, metrics_of
from scing_core.evaluation.reranking import Reranking, k_reciprocal_rerank
from scing_core.evaluation.roc import DistanceHistograms, RocCurve, pair_distance_histograms, roc_curve

__all__ = [
    "DistanceHistograms",
    "EvalArtifacts",
    "FeatureSet",
    "RankResult",
    "RocCurve",
    "compute_distance",
    "evaluate_features",
    "evaluate_rank",
    "metrics_of",
    "extract_features",
    "k_reciprocal_rerank",
    "evaluation_amp",
    "Reranking",
    "l2_normalize",
    "load_eval_artifacts",
    "pair_distance_histograms",
    "roc_curve",
    "save_eval_artifacts",
    "topk_search",
]
