"""The canvas's rendering layers: per-rectangle updates, the pyramid, the transform."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QSize

from inpaintstudio.geometry import Rect
from inpaintstudio.ui.canvas.rendering import OverlayLayer, PatchedPhoto, PhotoLayer, overlay_lut, qimage_view
from inpaintstudio.ui.canvas.transform import ViewTransform


def test_overlay_updates_only_the_changed_rectangle(qapp):
    mask = np.zeros((50, 80), np.uint8)
    sketch = np.zeros_like(mask)
    overlay = OverlayLayer(0.5)
    overlay.reset(mask, sketch)
    pixels = qimage_view(overlay.image)
    mask[10:20, 10:20] = 255
    mask[40:45, 70:75] = 255  # changed in the layer but not reported: must not show up
    overlay.update_rect(mask, sketch, Rect(10, 10, 10, 10))
    assert (pixels[10:20, 10:20] == overlay_lut(0.5)[255, 0]).all()
    assert (pixels[40:45, 70:75] == 0).all()
    assert overlay.content == Rect(10, 10, 10, 10)
    overlay.set_opacity(1.0, mask, sketch)
    assert (pixels[10:20, 10:20] >> 24 == 255).all()


def test_overlay_lut_is_premultiplied_and_sketch_wins():
    lut = overlay_lut(0.5)
    assert lut[0, 0] == 0
    alpha = int(lut[255, 0]) >> 24
    assert alpha == 128 and ((int(lut[255, 0]) >> 16) & 255) <= alpha
    assert int(lut[255, 255]) >> 24 == 255 and (int(lut[255, 255]) & 255) == 255  # opaque cyan


def test_photo_pyramid_is_updated_by_rectangle(qapp):
    rgb = np.zeros((600, 1000, 3), np.uint8)
    layer = PhotoLayer()
    layer.set_image(rgb)
    assert [lv.width() for lv in layer.levels] == [1000, 500, 250]
    rgb[100:200, 100:300] = (255, 0, 0)
    layer.update_rect(rgb, None, Rect(100, 100, 200, 100))
    full = qimage_view(layer.levels[0])
    assert full[150, 150] == 0xFFFF0000 and full[50, 50] == 0xFF000000
    half = qimage_view(layer.levels[1])
    assert half[75, 75] == 0xFFFF0000 and half[10, 10] == 0xFF000000


def test_transform_maps_both_ways_and_fits(qapp):
    t = ViewTransform()
    t.fit(Rect(0, 0, 2000, 1000), QSize(1000 + 32, 500 + 32))
    assert abs(t.scale - 0.5) < 1e-9
    x, y = t.to_image(t.to_view(123, 456))
    assert abs(x - 123) < 1e-9 and abs(y - 456) < 1e-9
    t.zoom_at(2.0, QPointF(300, 200))
    assert abs(t.scale - 1.0) < 1e-9
    assert t.view_rect_to_image(QRect(0, 0, 10, 10), margin=0).w >= 10


def _render(layer, size: tuple[int, int], scale: float = 1.0) -> np.ndarray:  # noqa: ANN001
    from PySide6.QtGui import QImage, QPainter

    t = ViewTransform()
    t.set(scale, QPointF(0, 0))
    w, h = round(size[0] * scale), round(size[1] * scale)
    out = QImage(w, h, QImage.Format.Format_RGB32)
    out.fill(0)
    painter = QPainter(out)
    layer.draw(painter, t, QRect(0, 0, w, h))
    painter.end()
    return qimage_view(out).copy()


def test_a_patched_photo_shows_its_patches_over_the_shared_base(qapp):
    rng = np.random.default_rng(0)
    base_rgb = rng.integers(0, 256, (300, 500, 3), dtype=np.uint8)
    base = PhotoLayer()
    base.set_image(base_rgb)
    before = qimage_view(base.levels[0]).copy()
    patch = np.zeros((40, 60, 3), np.uint8)
    patch[...] = (0, 255, 0)
    patched = PatchedPhoto(base, [(Rect(100, 50, 60, 40), patch)])
    assert (patched.width, patched.height) == (500, 300)
    shown = _render(patched, (500, 300))
    expected = base_rgb.copy()
    expected[50:90, 100:160] = (0, 255, 0)
    rgb = np.stack([(shown >> 16) & 255, (shown >> 8) & 255, shown & 255], axis=-1).astype(np.uint8)
    assert np.array_equal(rgb, expected)
    assert np.array_equal(qimage_view(base.levels[0]), before), "the shared base is never written"
    small = _render(patched, (500, 300), scale=0.25)  # zoomed out: drawn from the pyramids
    green = small[12 + 2 : 22 - 2, 25 + 2 : 40 - 2]
    assert ((green >> 8) & 255).min() > 200 and ((green >> 16) & 255).max() < 60


def test_a_shared_copy_keeps_its_pixels_when_the_original_is_edited(qapp):
    rgb = np.zeros((300, 500, 3), np.uint8)
    layer = PhotoLayer()
    layer.set_image(rgb)
    copy = layer.shared_copy()
    assert [lv.cacheKey() for lv in copy.levels] == [lv.cacheKey() for lv in layer.levels], "no pixels copied"
    rgb[:100, :100] = 255
    layer.update_rect(rgb, None, Rect(0, 0, 100, 100))
    assert qimage_view(layer.levels[0])[50, 50] == 0xFFFFFFFF
    assert qimage_view(copy.levels[0])[50, 50] == 0xFF000000 and qimage_view(copy.levels[1])[20, 20] == 0xFF000000
