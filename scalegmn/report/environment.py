"""Facts about the software and hardware a report was produced on."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES: tuple[str, ...] = ("scalegmn", "torch", "torch-geometric", "datasets", "pyarrow", "dvc", "numpy",
                             "pandas", "scikit-learn", "scipy", "nfn", "matplotlib")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed distribution versions (``"not installed"`` where absent), plus Python's."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def _gpus() -> str:
    import torch

    if not torch.cuda.is_available():
        return "none"
    return ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))


def hardware() -> dict[str, str]:
    """OS, CPU model, logical cores, RAM and GPUs of this machine."""
    memory = _memory_gib()
    return {
        "os": platform.platform(),
        "cpu": _cpu_model(),
        "logical cores": str(os.cpu_count()),
        "RAM": "unknown" if memory is None else f"{memory:.1f} GiB",
        "GPU": _gpus(),
    }
