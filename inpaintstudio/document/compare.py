"""Comparing models on the same input: plain state, no Qt.

A :class:`Comparison` holds one frozen request (the document's image, mask, sketch and extent when the
comparison started) and one :class:`CompareSlot` per chosen model. The app runs the slots one after
another on the fill worker and writes what comes back into them; the compare view only renders the
slots, and "apply" puts the chosen slot's result into the document as one undoable step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from inpaintstudio.document.document import Document
from inpaintstudio.engine import registry
from inpaintstudio.engine.request import FillRequest, FillResult

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)
MIN_MODELS, MAX_MODELS = 2, 4


@dataclass
class CompareSlot:
    model: str
    label: str = ""
    status: str = QUEUED
    result: FillResult | None = None
    seconds: float | None = None
    error: str | None = None
    progress: float = 0.0
    # The request has a sampling exclusion this model cannot honour (a diffusion fill): the caption says
    # so, or its result would look like it had been filled under the same rule as its neighbours.
    ignores_exclusion: bool = False

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def caption(self) -> str:
        """'PatchMatch - 0.42 s', 'Telea - running 40 %', 'CSA - failed: ...' for the slot's title."""
        name = self.label or self.model
        if self.status == DONE and self.seconds is not None:
            return f"{name} - {self.seconds:.2f} s" + (" - ignores the exclusion" if self.ignores_exclusion else "")
        if self.status == RUNNING:
            return f"{name} - running {round(self.progress * 100)} %"
        if self.status == FAILED:
            return f"{name} - failed: {self.error}"
        return f"{name} - {self.status}"


class Comparison:
    """The slots of one comparison and the request they all share."""

    def __init__(self, request: FillRequest, models: list[str], labels: dict[str, str] | None = None) -> None:
        unique = list(dict.fromkeys(models))
        if not MIN_MODELS <= len(unique) <= MAX_MODELS:
            raise ValueError(f"compare {MIN_MODELS} to {MAX_MODELS} different models, not {len(unique)}")
        labels = labels or {}
        self.request = request
        self.slots = [CompareSlot(model, labels.get(model, model)) for model in unique]
        if request.exclude is not None:
            for slot in self.slots:
                slot.ignores_exclusion = not registry.capabilities(slot.model).exclude
        self.chosen: int | None = None
        self._listeners: list[Callable[[int], None]] = []

    # -- observation ---------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """``listener(index)`` is called whenever slot ``index`` changes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _changed(self, index: int) -> None:
        for listener in list(self._listeners):
            listener(index)

    # -- the requests ------------------------------------------------------------------------------
    def request_for(self, index: int) -> FillRequest:
        return dataclasses.replace(self.request, model=self.slots[index].model)

    # -- progress of the slots -----------------------------------------------------------------------
    def queued(self, index: int) -> None:
        """Slot ``index``'s job was submitted (the controller follows it through the job's handle)."""
        self._changed(index)

    def progress(self, index: int, fraction: float) -> None:
        slot = self.slots[index]
        if slot.finished:
            return
        slot.status, slot.progress = RUNNING, fraction
        self._changed(index)

    def succeed(self, index: int, result: FillResult) -> None:
        slot = self.slots[index]
        slot.status, slot.result, slot.seconds, slot.progress = DONE, result, result.seconds, 1.0
        self._changed(index)

    def fail(self, index: int, message: str) -> None:
        slot = self.slots[index]
        slot.status, slot.error = FAILED, message
        self._changed(index)

    def cancel(self, index: int) -> None:
        slot = self.slots[index]
        if not slot.finished:
            slot.status = CANCELLED
            self._changed(index)

    @property
    def finished(self) -> bool:
        return all(slot.finished for slot in self.slots)

    # -- the choice ----------------------------------------------------------------------------------
    def apply(self, index: int, doc: Document) -> bool:
        """Put slot ``index``'s result into ``doc`` as one step (InputError if the document changed size)."""
        slot = self.slots[index]
        if slot.result is None:
            raise ValueError(f"slot {index} ({slot.model}) has no result")
        self.chosen = index
        return doc.apply_fill(slot.result, label=f"Fill ({slot.model}, compared)")
