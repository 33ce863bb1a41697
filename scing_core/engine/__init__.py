"""Two-stage training engine: stages as small objects, a short loop, hooks for the rest."""
