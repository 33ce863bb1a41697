"""Pre-training: SynthCLIP, the small CLIP the demo starts from, trained on SynthPed captions.

``train_synthclip(out_path, ...)`` writes the checkpoint (and its metrics) that ``model.pretrained``
loads; ``evaluate_synthclip(checkpoint_or_model, data_dir)`` measures zero-shot retrieval and
attribute probing on held-out SynthPed people. See docs/synthclip.md.
"""

from scing_core.pretrain.synthclip import evaluate_synthclip, train_synthclip

__all__ = ["evaluate_synthclip", "train_synthclip"]
