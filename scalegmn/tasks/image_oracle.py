"""The image oracle of INR classification: a plain classifier on the images the INRs render.

If the INRs of a zoo encode their images, a classifier that sees the rendered pixels (not the weights)
classifies the test INRs well; its accuracy is the ceiling a metanetwork is compared against, and a low one
says the zoo, not the metanetwork, is the problem. The classifier is scikit-learn's RBF-kernel SVC on the
rendered pixels, trained on the dataset's train split and scored on its test split (the same splits the
metanetworks see).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.svm import SVC
from torch import Tensor

from scalegmn.data.dataset import GraphDatasetBase
from scalegmn.tasks.inr import render_batch

@dataclass(frozen=True)
class ImageOracleConfig:
    """``resolution``: pixels per side at which the INRs are rendered (the zoo's fitting grid);
    ``svm_c``: the SVC's regularisation constant ``C``."""

    resolution: int = 28
    svm_c: float = 10.0

    def __post_init__(self) -> None:
        if self.resolution < 1 or not self.svm_c > 0:
            raise ValueError(f"image oracle: resolution must be >= 1 and svm_c > 0, got {self.resolution}, "
                             f"{self.svm_c}")

    @property
    def classifier(self) -> str:
        return f"sklearn SVC (RBF kernel, C={self.svm_c:g}, gamma='scale') on the rendered pixels"


@dataclass(frozen=True)
class ImageOracle:
    """Test accuracy of the image classifier; ``train``/``test``: INRs per split; ``resolution``: pixels per
    side of the rendering; ``seconds``: rendering and fitting."""

    accuracy: float
    train: int
    test: int
    resolution: int
    seconds: float
    classifier: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def line(self) -> str:
        return (f"image oracle: test accuracy {self.accuracy:.4f} ({self.train} train / {self.test} test INRs "
                f"rendered at {self.resolution}x{self.resolution}) in {self.seconds:.1f} s")


def rendered_pixels(dataset: GraphDatasetBase, positions: Tensor, resolution: int) -> np.ndarray:
    """``(len(positions), outputs * resolution**2)`` float64 pixels of the INRs at ``positions`` (one
    architecture), rendered by :func:`scalegmn.tasks.inr.render_batch`."""
    with torch.no_grad():
        images = render_batch(dataset.batch(positions), resolution)
    return images.reshape(len(positions), -1).double().numpy()


def image_oracle(dataset: GraphDatasetBase, config: ImageOracleConfig = ImageOracleConfig()) -> ImageOracle:
    """Fit the image classifier on the rendered train INRs of ``dataset`` (labels: its ``label`` column) and
    score it on the test INRs; ``ValueError`` when a split is empty or a network has no label."""
    began = time.perf_counter()
    split = dataset.get_idx_split()
    labels = dataset.frame()["label"].to_numpy()
    if len(split["train"]) == 0 or len(split["test"]) == 0 or (labels < 0).any():
        raise ValueError("the image oracle needs labelled networks in both the train and the test split")
    train, test = (rendered_pixels(dataset, split[s], config.resolution) for s in ("train", "test"))
    classifier = SVC(C=config.svm_c, gamma="scale").fit(train, labels[split["train"].numpy()])
    accuracy = float(classifier.score(test, labels[split["test"].numpy()]))
    return ImageOracle(accuracy, len(train), len(test), config.resolution, time.perf_counter() - began,
                       config.classifier)


def read_image_oracle(path: str | Path) -> ImageOracle:
    """An :class:`ImageOracle` written by :meth:`ImageOracle.to_dict` as JSON; ``ValueError`` naming the file
    when it is missing, not JSON or lacks a field."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
        return ImageOracle(**{f.name: record[f.name] for f in fields(ImageOracle)})
    except FileNotFoundError:
        raise ValueError(f"{path}: image oracle file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as err:
        raise ValueError(f"{path}: not an image oracle record ({err})") from None
    except KeyError as err:
        raise ValueError(f"{path}: image oracle record lacks {err}") from None
