"""The image oracle of INR classification: a plain classifier on the images the INRs render.

If the INRs of a zoo encode their images, a classifier that sees the rendered pixels (not the weights)
classifies the test INRs well; its accuracy is the ceiling a metanetwork is compared against, and a low one
says the zoo, not the metanetwork, is the problem. The classifier is scikit-learn's RBF-kernel SVC on the
rendered pixels, trained on the dataset's train split and scored on its test split (the same splits the
metanetworks see).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from sklearn.svm import SVC
from torch import Tensor

from scalegmn.data.dataset import GraphDatasetBase
from scalegmn.tasks.inr import render_batch

CLASSIFIER = "sklearn SVC (RBF kernel, C=10, gamma='scale') on the rendered pixels"


@dataclass(frozen=True)
class ImageOracle:
    """Test accuracy of the image classifier; ``train``/``test``: INRs per split; ``resolution``: pixels per
    side of the rendering; ``seconds``: rendering and fitting."""

    accuracy: float
    train: int
    test: int
    resolution: int
    seconds: float
    classifier: str = CLASSIFIER

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rendered_pixels(dataset: GraphDatasetBase, positions: Tensor, resolution: int) -> np.ndarray:
    """``(len(positions), outputs * resolution**2)`` float64 pixels of the INRs at ``positions`` (one
    architecture), rendered by :func:`scalegmn.tasks.inr.render_batch`."""
    with torch.no_grad():
        images = render_batch(dataset.batch(positions), resolution)
    return images.reshape(len(positions), -1).double().numpy()


def image_oracle(dataset: GraphDatasetBase, resolution: int = 28) -> ImageOracle:
    """Fit the image classifier on the rendered train INRs of ``dataset`` (labels: its ``label`` column) and
    score it on the test INRs; ``ValueError`` when a split is empty or a network has no label."""
    began = time.perf_counter()
    split = dataset.get_idx_split()
    labels = dataset.frame()["label"].to_numpy()
    if len(split["train"]) == 0 or len(split["test"]) == 0 or (labels < 0).any():
        raise ValueError("the image oracle needs labelled networks in both the train and the test split")
    train, test = (rendered_pixels(dataset, split[s], resolution) for s in ("train", "test"))
    classifier = SVC(C=10.0, gamma="scale").fit(train, labels[split["train"].numpy()])
    accuracy = float(classifier.score(test, labels[split["test"].numpy()]))
    return ImageOracle(accuracy, len(train), len(test), resolution, time.perf_counter() - began)
