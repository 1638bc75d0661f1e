"""Question 0: where the time of a fill goes, stage by stage (profile before optimising).

A deepfillv2 fill of a 25 % hole in a 512 x 512 photo, and of a 300 x 300 hole in a 24-megapixel photo,
is split into the stages the app runs: snapshot of the document into a request (GUI thread), the
pipeline's planning / scaling / padding, the network's coarse stage, its refinement stage (with the
contextual attention alone beside it), restoring and compositing, applying the result to the document
(one undo step), and converting the changed rectangle for display (the canvas's photo layer). Each
figure is a median of several runs.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Table, free_form_hole, learned_weights, median_time, synthetic_photo


def _stages(doc, name: str, device: str, repeats: int) -> list[tuple[str, float]]:  # noqa: ANN001
    import torch

    from inpaintstudio.engine import processing, registry
    from inpaintstudio.engine.context import JobContext
    from inpaintstudio.engine.pipeline import ModelCache, run_fill
    from inpaintstudio.networks.attention import ContextualAttention
    from inpaintstudio.ui.canvas.rendering import PhotoLayer

    cls = registry.get(name)
    cache = ModelCache()
    ctx = JobContext()
    inpainter = cache.get(cls, device, ctx)
    net = inpainter.net
    rows: list[tuple[str, float]] = []
    snapshot, _ = median_time(lambda: doc.fill_request(name, device=device), repeats)
    rows.append(("snapshot document -> request (GUI thread)", snapshot))
    request = doc.fill_request(name, device=device)
    hole = np.asarray(request.mask)
    regions = processing.plan_regions(hole, native_size=cls.working_size(), min_side=cls.min_size)
    region = regions[0]

    def prepare() -> processing.Prepared:
        rows_, cols = region.slices()
        return processing.prepare(
            np.asarray(request.image)[rows_, cols], hole[rows_, cols], None,
            native_size=cls.working_size(), pad_multiple=cls.pad_multiple, min_size=cls.min_size,
        )  # fmt: skip

    plan_t, _ = median_time(
        lambda: processing.plan_regions(hole, native_size=cls.working_size(), min_side=cls.min_size), repeats
    )
    prep_t, _ = median_time(prepare, repeats)
    rows.append((f"plan regions ({len(regions)}) + crop / scale / pad", plan_t + prep_t))
    prepared = prepare()
    with torch.inference_mode():
        img = torch.as_tensor(np.array(prepared.image)).permute(2, 0, 1)[None].float() / 127.5 - 1
        m = torch.as_tensor(np.array(prepared.mask))[None, None].float()
        coarse_t, _ = median_time(lambda: net.stage1(img, m, None), repeats)
        coarse = net.stage1(img, m, None)
        refine_t, _ = median_time(lambda: net.stage2(coarse, img, m), repeats)
        h, w = img.shape[-2:]
        feats = torch.rand(1, 2 * net.cnum, h // 4, w // 4)  # pmconv6's output: 96 channels at cnum 48
        attn = ContextualAttention()
        attn_t, _ = median_time(lambda: attn(feats, feats, m), repeats)
    rows.append((f"network: coarse stage at {w}x{h}", coarse_t))
    rows.append((f"network: refinement stage at {w}x{h}", refine_t))
    rows.append(("  of which contextual attention", attn_t))
    out = inpainter.inpaint(prepared.image, prepared.mask, None, ctx)
    comp_t, _ = median_time(
        lambda: processing.paste_holes(
            np.array(request.image[region.slices()]), processing.restore(out, prepared), hole[region.slices()]
        ),
        repeats,
    )
    rows.append(("restore (unpad, scale back) + composite into the region's patch", comp_t))
    total, _ = median_time(lambda: run_fill(request, cache=cache), repeats)
    result = run_fill(request, cache=cache)

    def apply() -> None:
        doc.apply_fill(result)
        doc.undo()

    apply_t, _ = median_time(apply, repeats)
    rows.append(("apply result to the document (+ its undo, timed together)", apply_t))
    layer = PhotoLayer()
    layer.set_image(doc.image, doc.alpha)
    box = region
    qt_t, _ = median_time(lambda: layer.update_rect(doc.image, doc.alpha, box), repeats)
    rows.append((f"display: convert the changed {box.w}x{box.h} rectangle for Qt", qt_t))
    rows.append(("whole run_fill (worker thread)", total))
    return rows


def run(device: str = "cpu", repeats: int = 5) -> list[Table]:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from inpaintstudio.document.document import Document

    QApplication.instance() or QApplication([])
    tables = []
    with learned_weights("deepfillv2") as source:
        from inpaintstudio.engine import registry

        registry.refresh()
        cases = []
        small = Document(synthetic_photo(512, 512))
        small.mask[free_form_hole(512, 512, 0.25)] = 255
        cases.append(("512 x 512 photo, 25 % hole", small))
        big = Document(synthetic_photo(4000, 6000))
        big.mask[1850:2150, 2850:3150] = 255
        cases.append(("6000 x 4000 photo, 300 x 300 hole", big))
        for label, doc in cases:
            table = Table(f"Q0. Where a deepfillv2 fill's time goes: {label} ({device})", ["stage", "ms"])
            for stage, seconds in _stages(doc, "deepfillv2", device, repeats):
                table.add(stage, seconds * 1000)
            table.notes.append(f"deepfillv2 with {source}")
            tables.append(table)
    return tables
