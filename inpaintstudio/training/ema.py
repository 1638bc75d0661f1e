"""An exponential moving average of the generator's weights (``train --ema DECAY``).

With a GAN loss the generator's weights wander from step to step, and any single step's weights carry
that step's noise; the average over the last ~1 / (1 - DECAY) steps is a calmer generator (Karras et al.
2018 and most GAN work since ship it). It costs one more copy of the generator in memory and in the
checkpoint, and nothing in the optimisation: the average is never trained, only updated after each step.

It is kept in the checkpoint and the portable state under :data:`KEY`, beside the networks; when a run
has one, it is what is validated, shipped and exported (:func:`shipped_generator`). A run that turns it on
later starts the average from the generator's weights at that step.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

KEY = "generator_ema"


class WeightAverage:
    """``average = decay * average + (1 - decay) * weights`` after every optimiser step."""

    def __init__(self, model: nn.Module, decay: float, state: dict[str, torch.Tensor] | None = None) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"the average's decay must be between 0 and 1, got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        if state is not None:
            self.module.load_state_dict(state)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for average, current in zip(self.module.parameters(), model.parameters(), strict=True):
            average.lerp_(current.detach(), 1.0 - self.decay)
        for average, current in zip(self.module.buffers(), model.buffers(), strict=True):
            average.copy_(current)  # running statistics and counters follow the generator as they are

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()


def shipped_generator(modules: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The generator weights a run's checkpoint or state ships: the average when it keeps one."""
    return modules.get(KEY) or modules["generator"]
