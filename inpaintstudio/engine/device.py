"""Choosing where a learned model runs: ``auto``, ``cpu``, ``cuda`` or ``mps``.

torch is imported only when a device is actually resolved, so start-up and classical fills stay light.
"""

from __future__ import annotations

from inpaintstudio.errors import InputError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(choice: str = "auto") -> str:
    """Turn the user's choice into a concrete torch device string.

    ``auto`` prefers CUDA, then Apple's MPS, then the CPU. Asking for an accelerator that is not
    present is an error with a clear message rather than a silent fallback, so benchmarks and
    users know what they got.
    """
    choice = (choice or "auto").lower()
    if choice not in DEVICE_CHOICES:
        raise InputError(f"unknown device '{choice}'; choose one of {', '.join(DEVICE_CHOICES)}")
    if choice == "cpu":
        return "cpu"
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if choice == "cuda":
        if not cuda:
            raise InputError("device 'cuda' was requested but no CUDA GPU is available to torch")
        return "cuda"
    if choice == "mps":
        if not mps:
            raise InputError("device 'mps' was requested but Apple's MPS backend is not available")
        return "mps"
    return "cuda" if cuda else "mps" if mps else "cpu"


def describe_device(device: str) -> str:
    if device == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    return device
