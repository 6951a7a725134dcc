"""The 8x8 handwritten digits that ship with scikit-learn: the offline data behind our generated zoos."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

DIGITS_SIZE = 8
PIXEL_MAX = 16.0


@dataclass(frozen=True)
class DigitsSplit:
    """A fixed, seeded, stratified train/test split of the 1797 digits.

    ``images`` hold the raw pixel values in ``[0, 16]``, shape ``(n, 8, 8)``; ``labels`` are ``(n,)``.
    ``train_index``/``test_index`` index into them.
    """

    images: torch.Tensor
    labels: torch.Tensor
    train_index: torch.Tensor
    test_index: torch.Tensor

    def signed(self, index: torch.Tensor) -> torch.Tensor:
        """Images scaled to ``[-1, 1]`` (CNN inputs), shape ``(len(index), 1, 8, 8)``."""
        return (self.images[index] / (PIXEL_MAX / 2) - 1.0).unsqueeze(1)


def load_digits_images() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1797 digits: float32 pixels ``(1797, 8, 8)`` in ``[0, 16]`` and int64 labels ``(1797,)``."""
    bunch = load_digits()
    images = torch.from_numpy(np.asarray(bunch.images, dtype=np.float32))
    return images, torch.from_numpy(np.asarray(bunch.target, dtype=np.int64))


def digits_split(test_fraction: float = 0.3, seed: int = 0) -> DigitsSplit:
    """The digits with a stratified train/test split (deterministic for ``seed``)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    images, labels = load_digits_images()
    train, test = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, random_state=seed, stratify=labels.numpy()
    )
    return DigitsSplit(images, labels, torch.from_numpy(np.sort(train)), torch.from_numpy(np.sort(test)))
