"""The border weight map of the U-Net paper, the plain way: one exact Euclidean distance transform
per cell over the whole image (scipy). The reference for lib/weightmap in TypeScript; the
definitions are those of README "Weight map"."""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage


def connected_components(mask: np.ndarray, connectivity: int = 4) -> np.ndarray:
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    labels, _ = ndimage.label(mask > 0, structure=structure)
    return labels.astype(np.int32)


def insert_gaps(labels: np.ndarray) -> np.ndarray:
    """A cell pixel becomes background when one of its 8 neighbours belongs to another cell with a smaller id."""
    padded = np.pad(labels, 1)
    out = labels.copy()
    h, w = labels.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            neighbour = padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
            out[(labels > 0) & (neighbour > 0) & (neighbour < labels)] = 0
    return out


def weight_map(
    labels: np.ndarray,
    w0: float = 10.0,
    sigma: float = 5.0,
    class_weights: str | tuple[float, float] = "balance",
    preset: str | None = None,
) -> np.ndarray:
    labels = labels.astype(np.int64)
    ids = [i for i in np.unique(labels) if i != 0]
    distances = np.full((max(len(ids), 2),) + labels.shape, np.inf)
    for k, i in enumerate(ids):
        distances[k] = ndimage.distance_transform_edt(labels != i)
    distances.sort(axis=0)
    d1, d2 = distances[0], distances[1]
    foreground = labels > 0
    if preset == "falk2019":
        w0, sigma = 50.0, 6.0
        weights = np.where(foreground, 1.0, 0.1 + 0.9 * np.exp(-(d1**2) / (2 * 10.0**2)))
    elif class_weights == "balance":
        n = labels.size
        counts = {c: int(np.sum(foreground == bool(c))) for c in (0, 1)}
        present = [c for c in (0, 1) if counts[c] > 0]
        weights = np.where(foreground, n / (len(present) * max(counts[1], 1)), n / (len(present) * max(counts[0], 1)))
    elif class_weights == "none":
        weights = np.ones(labels.shape)
    else:
        weights = np.where(foreground, class_weights[1], class_weights[0])
    border = w0 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2))
    weights = weights + np.where(foreground, 0.0, border)
    return weights.astype(np.float32)
