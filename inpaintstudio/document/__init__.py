"""The document model: image, mask, sketch, extent, strokes and undo history. Pure Python + numpy, no Qt."""
