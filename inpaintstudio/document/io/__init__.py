"""The document's files: images with their metadata, ``.inpaint`` projects with their undo history, and the
crash-recovery snapshots. Reads and writes only; no Qt."""
