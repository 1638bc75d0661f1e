"""What a learned fill gets after the network, at the crop's full resolution: the join with the photo and
the photo's own high frequencies (README, "Post-processing of learned fills").

- The join: :func:`blend.seamless` (a membrane over the difference on a ring around the hole) for models
  whose whole output carries their colour error; :func:`blend.edge_join` for models that hand back the
  photo's own pixels around the hole (SRN), whose step lies between the photo's last pixels and the fill's
  first ones.
- The detail: :func:`detail.transfer_detail` with the model's own attention (DeepFill v2, CSA), or, for a
  model without one (SRN), a matched attention computed on the joined fill, whose colours are already
  the photo's (matched on the network's raw output, a band still grey early in training drew sky cells
  from a tower). A model that joins at the edge is joined again after the detail, so the copied texture
  brings back no step.
"""

from __future__ import annotations

import cv2
import numpy as np

from inpaintstudio.engine import blend, detail
from inpaintstudio.engine.processing import Prepared


def finish(
    model: type,
    crop: np.ndarray,
    hole: np.ndarray,
    restored: np.ndarray,
    prepared: Prepared,
    attention: detail.AttentionMap | None,
    *,
    join: bool,
    add_detail: bool,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """``restored`` (the model's output scaled back to ``crop``) joined to the photo and given detail.

    model: the inpainter class (``learned``, ``join_at_edge`` and ``matched_detail`` are read from it);
    attention: the model's own, or None; join / add_detail: the request's switches (``eval MODEL:plain``
    turns both off); exclude: known pixels of the crop never to copy from.
    """
    if not getattr(model, "learned", False):
        return restored
    at_edge = getattr(model, "join_at_edge", False)
    if join:
        if at_edge:
            restored = blend.edge_join(crop, hole, restored)
        else:
            restored = blend.seamless(crop, hole, restored, exclude=exclude)
    strength, band = getattr(model, "detail_strength", detail.STRENGTH), detail.BAND  # tied to the working size
    if attention is None and add_detail and getattr(model, "matched_detail", False):
        strength, band = detail.MATCH_STRENGTH, detail.MATCH_BAND
        sw, sh = prepared.scaled_size
        small = cv2.resize(restored, (sw, sh), interpolation=cv2.INTER_AREA)
        small_exclude = None if prepared.exclude is None else prepared.exclude[:sh, :sw]
        attention = detail.matched_attention(small, prepared.mask[:sh, :sw], exclude=small_exclude)
    if attention is None or not add_detail:
        return restored
    restored = detail.transfer_detail(
        crop,
        hole,
        restored,
        attention,
        scaled_size=prepared.scaled_size,
        padded_size=(prepared.image.shape[1], prepared.image.shape[0]),
        strength=strength,
        band=band,
        exclude=exclude,
        keep_energy=detail.KEEP_ENERGY,
    )
    if join and at_edge:
        restored = blend.edge_join(crop, hole, restored)
    return restored
