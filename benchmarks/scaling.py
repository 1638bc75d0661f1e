"""Question 2: cost as the work grows.

(a) A fixed 300 x 300 hole in photos of 1, 6, 24 and 50 megapixels: the crop strategy works around the
hole, so the fill time should barely grow (target: at most 1.5x from 1 to 50 MP). The snapshot of the
document into a request (a copy, made on the GUI thread) is timed separately.
(b) Holes of 5, 20 and 40 % of a 2-megapixel photo.
(c) Peak memory of a whole fill of a 24-megapixel photo, in a fresh process: target at most 2 GB.
"""

from __future__ import annotations

from benchmarks.common import Table, free_form_hole, median_time, run_isolated, synthetic_photo, verdict

MEGAPIXELS = (1, 6, 24, 50)
HOLE_FRACTIONS = (0.05, 0.20, 0.40)


def _dims(megapixels: float) -> tuple[int, int]:
    width = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    return int(round(megapixels * 1e6 / width)), width


def _models() -> list[str]:
    from inpaintstudio.engine import registry

    wanted = ["deepfillv2", "csa", "telea", "patchmatch"]
    return [m for m in wanted if m in registry.names() and registry.get(m).status().ready]


def fixed_hole(device: str, repeats: int) -> Table:
    from inpaintstudio.document.document import Document
    from inpaintstudio.engine.pipeline import ModelCache, run_fill

    table = Table(
        "Q2a. A 300 x 300 hole in photos of growing size (crop strategy)",
        ["model", "photo", "megapixels", "snapshot s", "fill s", "x 1 MP"],
    )
    cache = ModelCache()
    base: dict[str, float] = {}
    for mp in MEGAPIXELS:
        h, w = _dims(mp)
        doc = Document(synthetic_photo(h, w))
        y, x = h // 2 - 150, w // 2 - 150
        doc.mask[y : y + 300, x : x + 300] = 255
        for model in _models():
            snap, _ = median_time(lambda m=model, d=doc: d.fill_request(m, device=device), repeats=3, warmup=0)
            request = doc.fill_request(model, device=device)
            seconds, _ = median_time(lambda r=request: run_fill(r, cache=cache), repeats=repeats, warmup=1)
            base.setdefault(model, seconds)
            table.add(model, f"{w}x{h}", mp, snap, seconds, seconds / base[model])
        del doc  # free the photo before the next, larger one
    for model in base:
        growth = [row[5] for row in table.rows if row[0] == model][-1]
        table.notes.append(f"{model}: 50 MP / 1 MP = {growth:.2f}x, {verdict(growth, 1.5, 'x')}")
    return table


def hole_sizes(device: str, repeats: int) -> Table:
    from inpaintstudio.engine.pipeline import ModelCache, run_fill
    from inpaintstudio.engine.request import FillRequest

    table = Table("Q2b. Growing holes in a 2-megapixel photo", ["model", "hole", "regions", "fill s"])
    h, w = _dims(2)
    image = synthetic_photo(h, w)
    cache = ModelCache()
    for fraction in HOLE_FRACTIONS:
        hole = free_form_hole(h, w, fraction, seed=3)
        for model in _models():
            from inpaintstudio.engine import processing, registry

            cls = registry.get(model)
            regions = processing.plan_regions(hole, native_size=cls.working_size(), min_side=cls.min_size)
            request = FillRequest(image, hole, model, device=device)
            seconds, _ = median_time(lambda r=request: run_fill(r, cache=cache), repeats=max(1, repeats // 2), warmup=1)
            table.add(model, f"{hole.mean() * 100:.1f} %", len(regions), seconds)
    return table


PEAK_CODE = """
import json, time
from pathlib import Path
from benchmarks.common import synthetic_photo
from inpaintstudio.document.document import Document
from inpaintstudio.engine.pipeline import run_fill

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
h, w = {h}, {w}
doc = Document(synthetic_photo(h, w))
doc.mask[h // 2 - 150 : h // 2 + 150, w // 2 - 150 : w // 2 + 150] = 255
Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark: measure the fill alone
before = status("VmRSS:")
t = time.perf_counter()
result = run_fill(doc.fill_request({model!r}, device={device!r}))
doc.apply_fill(result)
seconds = time.perf_counter() - t
print(json.dumps({{"before_mb": before, "peak_mb": status("VmHWM:"), "seconds": seconds}}))
"""


def peak_memory(device: str) -> Table:
    table = Table(
        "Q2c. Peak memory of a fill of a 24-megapixel photo (fresh process, high-water mark reset before the fill)",
        ["model", "photo", "RSS with photo open MB", "peak RSS during fill MB", "fill + apply s"],
    )
    h, w = _dims(24)
    for model in _models():
        data = run_isolated(PEAK_CODE.format(h=h, w=w, model=model, device=device))
        table.add(model, f"{w}x{h}", data["before_mb"], data["peak_mb"], data["seconds"])
        table.notes.append(f"{model}: peak {verdict(data['peak_mb'] / 1024, 2.0, 'GB')}")
    return table


def run(device: str = "cpu", repeats: int = 3) -> list[Table]:
    return [fixed_hole(device, repeats), hole_sizes(device, repeats), peak_memory(device)]
