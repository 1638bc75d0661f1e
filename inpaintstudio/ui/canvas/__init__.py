"""The canvas, split into the view transform, rendering layers, the widget and the mouse interaction."""

from inpaintstudio.ui.canvas.view import CanvasView

__all__ = ["CanvasView"]
