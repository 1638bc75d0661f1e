"""InpaintStudio: fill holes in photos with learned and classical inpainting models."""

__version__ = "0.1.0"
