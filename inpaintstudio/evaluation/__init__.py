"""Evaluation helpers (image-quality metrics), numpy only so they run without torch."""
