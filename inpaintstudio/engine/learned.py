"""Shared behaviour of the learned inpainters: weights lookup and checks, device, precision, fallbacks.

A family subclass (``deepfillv2``, ``csa``, ``srn``) only says how to build its network from the
manifest's config and how to run one forward pass; this class finds and verifies the weights, loads
them safely, moves the network to the chosen device, converts images to tensors and back, runs under
``torch.inference_mode`` (half precision on CUDA where the family allows it) and falls back to the
CPU with a notice when the GPU runs out of memory, so a fill is never lost to an OOM.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inpaintstudio.engine import weights
from inpaintstudio.engine.base import Capabilities, Inpainter, ModelStatus
from inpaintstudio.engine.context import JobContext
from inpaintstudio.engine.detail import AttentionMap
from inpaintstudio.errors import DOWNLOAD, IMPORT, TRAIN, Remedy, WeightsError

if TYPE_CHECKING:
    import torch


def _check_fit(expected: dict[str, Any], tensors: dict[str, Any], name: str) -> None:
    """Name the first missing, unexpected or mis-shaped tensor (load_state_dict's own message is long)."""
    problem = next((f"tensor '{k}' is missing" for k in expected if k not in tensors), None)
    problem = problem or next((f"it has an unexpected tensor '{k}'" for k in tensors if k not in expected), None)
    for key, ref in expected.items():
        if problem:
            break
        if tuple(tensors[key].shape) != tuple(ref.shape):
            problem = f"tensor '{key}' has shape {tuple(tensors[key].shape)}, the network needs {tuple(ref.shape)}"
    if problem:
        raise WeightsError(f"weights for '{name}' do not fit the network: {problem}")


class LearnedInpainter(Inpainter):
    learned: ClassVar[bool] = True
    # A network sees the crop at its working size whatever the margin, and its attention copies from
    # the context: a hole's own size on every side scored 0.12 dB above half of it on the validation
    # photos (deepfillv2 18.28 -> 18.40 dB, detail 0.63 -> 0.65), more than that no better. A family
    # declares its own caps; this is the learned families' context unless they say otherwise.
    caps: ClassVar[Capabilities] = Capabilities(context=1.0)
    half_precision_safe: ClassVar[bool] = True  # run in float16 on CUDA
    importable: ClassVar[bool] = False  # public checkpoints can be imported (engine/checkpoint_import.py)

    def __init__(self, device: str = "cpu") -> None:
        super().__init__(device)
        self.net: Any = None
        self.spec: weights.WeightsSpec | None = None
        # set during inpaint_with_attention: the family's forward records its attention here
        self.collect_attention = False
        self.attention: AttentionMap | None = None

    # -- weights -----------------------------------------------------------------------------------
    @classmethod
    def weights_spec(cls) -> weights.WeightsSpec | None:
        return weights.find_spec(cls.name)

    @classmethod
    def status(cls) -> ModelStatus:
        try:
            spec = cls.weights_spec()
        except WeightsError as exc:
            return ModelStatus(False, "damaged", str(exc))
        if spec is None:
            remedy = Remedy(IMPORT if cls.importable else TRAIN, cls.name)
            message = f"no weights are installed for '{cls.name}'; use a classical fill"
            return ModelStatus(False, "missing", message, remedy)
        try:
            weights.verify(spec)
        except WeightsError as exc:
            state = "missing" if "missing" in str(exc) else "damaged"
            return ModelStatus(False, state, str(exc), Remedy(DOWNLOAD, cls.name) if spec.url else None)
        return ModelStatus(True, "ready")

    @classmethod
    def capabilities(cls) -> Capabilities:
        """The declared :attr:`caps` with the installed weights' facts: their manifest entry's recorded
        scores, and the working size they ask for (config "working_size", for weights trained at another
        scale; a request can still ask for another, as ``inpaintstudio eval --working-size`` does)."""
        try:
            spec = cls.weights_spec()
        except WeightsError:  # the manifest is unreadable; the status says so
            spec = None
        if spec is None:
            return replace(cls.caps, scores={})
        return cls.caps_for(spec)

    @classmethod
    def caps_for(cls, spec: weights.WeightsSpec) -> Capabilities:
        """The capabilities with weights ``spec`` installed (a family whose networks differ in what they
        can do, like DeepFill v2's unguided imports, says so here)."""
        size = spec.config.get("working_size")
        working = int(size) if size else cls.caps.working_size
        return replace(cls.caps, working_size=working, scores={job: dict(s) for job, s in spec.scores.items()})

    # -- family hooks ------------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def build_network(cls, config: dict[str, Any]) -> torch.nn.Module:
        """The family's generator, built from the manifest's config (random weights)."""

    @abstractmethod
    def forward(
        self, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None, ctx: JobContext
    ) -> torch.Tensor:
        """One fill on tensors: image 1x3xHxW in [-1, 1] RGB, mask 1x1xHxW (1 = hole), sketch 1x1xHxW
        or None. Returns 1x3xHxW in [-1, 1]. Runs under inference mode on ``self.device``. A family that
        declares ``caps.exclude`` also takes ``exclude`` (1x1xHxW, 1 = never copy from here)."""

    # -- life cycle --------------------------------------------------------------------------------
    def load(self, ctx: JobContext | None = None) -> None:
        import torch

        spec = self.weights_spec()
        if spec is None:
            status = self.status()
            raise WeightsError(status.message, remedy=status.remedy)
        path = weights.verify(spec)
        # Floating point only: an int, bool or complex tensor is refused by name, not silently converted.
        tensors = weights.load_tensors(path, floating_only=True)
        try:
            config = {k: v for k, v in spec.config.items() if k != "working_size"}
            net = self.build_network(config)
            _check_fit(net.state_dict(), tensors, self.name)
            net.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True)
        except (RuntimeError, AttributeError, ValueError, TypeError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise WeightsError(f"weights for '{self.name}' do not fit the network: {first}") from exc
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        self.spec = spec
        self.net = net.to(torch.device(self.device))
        if self._use_half():
            self.net.half()

    def unload(self) -> None:
        self.net = None
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _use_half(self) -> bool:
        return self.device == "cuda" and self.half_precision_safe

    # -- the method --------------------------------------------------------------------------------
    def inpaint(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        sketch: np.ndarray | None,
        ctx: JobContext,
        exclude: np.ndarray | None = None,
    ) -> np.ndarray:
        import torch

        if self.net is None:
            self.load(ctx)
        try:
            return self._run(image, mask, sketch, ctx, exclude)
        except torch.OutOfMemoryError:
            if self.device == "cpu":
                raise
            # The GPU is full (another program, or a very large crop): finish on the CPU, slower but
            # with the user's result, rather than failing the fill.
            ctx.notice(f"the GPU ran out of memory; '{self.name}' finished this fill on the CPU")
            self.net = self.net.float().to("cpu")
            if self.device == "cuda":
                torch.cuda.empty_cache()
            self.device = "cpu"
            return self._run(image, mask, sketch, ctx, exclude)

    def inpaint_with_attention(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        sketch: np.ndarray | None,
        ctx: JobContext,
        exclude: np.ndarray | None = None,
    ) -> tuple[np.ndarray, AttentionMap | None]:
        self.collect_attention, self.attention = True, None
        try:
            return self.inpaint(image, mask, sketch, ctx, exclude), self.attention
        finally:
            self.collect_attention = False

    def _run(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        sketch: np.ndarray | None,
        ctx: JobContext,
        exclude: np.ndarray | None = None,
    ) -> np.ndarray:
        import torch

        dev = torch.device(self.device)
        dtype = torch.float16 if self._use_half() else torch.float32
        with torch.inference_mode():
            # torch.as_tensor copies: the pipeline may hand over read-only views of the request's arrays.
            img = torch.as_tensor(np.array(image), device=dev).permute(2, 0, 1)[None]
            img = img.to(dtype) / 127.5 - 1.0
            m = torch.as_tensor(np.array(mask), device=dev)[None, None].to(dtype)
            sk = None
            if sketch is not None and self.caps.sketch:
                sk = torch.as_tensor(np.array(sketch), device=dev)[None, None].to(dtype)
            extra = {}
            if exclude is not None and self.caps.exclude:
                extra["exclude"] = torch.as_tensor(np.array(exclude), device=dev)[None, None].to(dtype)
            out = self.forward(img, m, sk, ctx, **extra)
            out = ((out.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
            return out[0].permute(1, 2, 0).cpu().numpy()
