"""One file per panel: training, retrieval, saliency, modality gap, and the workspace setup page."""
