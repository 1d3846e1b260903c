"""The training loop a PyTorch user would write for the U-Net: the baseline of bench/gpu.js's
train() rows. Random tiles of the training images read with mirroring, the paper's augmentation
(elastic deformation on a 3 x 3 grid with sigma = 10, a rotation, flips), the weighted soft-max
cross-entropy and SGD with momentum 0.99, as train() runs by default. Two ways to augment:

- "loader": scipy on the CPU (reference/augment.py) in a DataLoader with worker processes, the
  batches pinned and copied to the device without blocking;
- "device": torch ops on the device, in the loop: the same field built with F.interpolate and
  applied with F.grid_sample (bicubic image, nearest target, bilinear weights, reflection).
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from .augment import augment_sample
from .unet import UNet


class AugmentedTiles(Dataset):
    """Sample `index`: a random tile of a random image, augmented with scipy; seeded by index."""

    def __init__(self, images: list[np.ndarray], targets: list[np.ndarray], weights: list[np.ndarray], tile: int, out: int, steps: int, seed: int = 0):
        half = tile // 2
        self.padded = [
            tuple(np.pad(a, ((half, half), (half, half)), mode="reflect") for a in sample)
            for sample in zip(images, targets, weights)
        ]
        self.shapes = [image.shape for image in images]
        self.tile, self.margin, self.out, self.steps, self.seed = tile, (tile - out) // 2, out, steps, seed

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, index])
        k = int(rng.integers(len(self.padded)))
        h, w = self.shapes[k]
        y, x = int(rng.integers(h)), int(rng.integers(w))
        crops = [a[y:y + self.tile, x:x + self.tile] for a in self.padded[k]]
        image, target, weights = augment_sample(rng, *crops)
        inner = (slice(self.margin, self.margin + self.out),) * 2
        return (torch.from_numpy(np.ascontiguousarray(image[None], dtype=np.float32)),
                torch.from_numpy(np.ascontiguousarray(target[inner], dtype=np.int64)),
                torch.from_numpy(np.ascontiguousarray(weights[inner], dtype=np.float32)))


def augment_on_device(image: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, sigma: float = 10.0, grid: int = 3,
                      rotation: float = 180.0, flip: bool = True):
    """The paper's augmentation of a batch (B, 1, T, T) in torch ops on its device."""
    b, _, h, w = image.shape
    device = image.device
    elastic = F.interpolate(torch.randn(b, 2, grid, grid, device=device) * sigma, size=(h, w), mode="bicubic", align_corners=True)
    angle = (torch.rand(b, 1, 1, device=device) * 2 - 1) * math.radians(rotation)
    signs = torch.where(torch.rand(b, 2, 1, 1, device=device) < 0.5, -1.0, 1.0) if flip else torch.ones(b, 2, 1, 1, device=device)
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32), torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    cy, cx = (h - 1) / 2, (w - 1) / 2
    qy, qx = (ys + elastic[:, 0] - cy) * signs[:, 0], (xs + elastic[:, 1] - cx) * signs[:, 1]
    c, s = torch.cos(angle), torch.sin(angle)
    sy, sx = cy + c * qy - s * qx, cx + s * qy + c * qx
    points = torch.stack([sx * (2 / (w - 1)) - 1, sy * (2 / (h - 1)) - 1], dim=-1)
    sample = lambda x, mode: F.grid_sample(x, points, mode=mode, padding_mode="reflection", align_corners=True)  # noqa: E731
    return sample(image, "bicubic"), sample(target.float(), "nearest").long(), sample(weights, "bilinear")


def train_tiles_per_second(model: UNet, images: list[np.ndarray], targets: list[np.ndarray], weights: list[np.ndarray], tile: int,
                           steps: int, augment: str, device: str, workers: int = 0, seed: int = 0) -> dict:
    """`steps` steps of one tile; tiles per second over the steps after the 10th, and the last loss."""
    model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99)
    out = model(torch.zeros(1, 1, tile, tile, device=device)).shape[-1]
    margin = (tile - out) // 2
    if augment == "loader":
        dataset = AugmentedTiles(images, targets, weights, tile, out, steps, seed)
        batches = DataLoader(dataset, batch_size=1, num_workers=workers, pin_memory=device.startswith("cuda"),
                             persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None)
    else:
        padded = [tuple(torch.from_numpy(np.pad(a, ((tile // 2,) * 2,) * 2, mode="reflect")).to(device) for a in sample)
                  for sample in zip(images, targets, weights)]
        rng = np.random.default_rng(seed)

        def device_batches():
            for _ in range(steps):
                k = int(rng.integers(len(padded)))
                h, w = images[k].shape
                y, x = int(rng.integers(h)), int(rng.integers(w))
                crops = [a[None, None, y:y + tile, x:x + tile] for a in padded[k]]
                image, target, weight = augment_on_device(crops[0].float(), crops[1], crops[2].float())
                yield image, target[:, 0, margin:margin + out, margin:margin + out], weight[:, 0, margin:margin + out, margin:margin + out]

        batches = device_batches()
    start, loss = 0.0, None
    for step, (image, target, weight) in enumerate(batches, 1):
        image, target, weight = (t.to(device, non_blocking=True) for t in (image, target, weight))
        loss = (F.cross_entropy(model(image), target, reduction="none") * weight).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == 10:
            loss.item()  # waits for the device, as the clock starts
            start = time.perf_counter()
    last = loss.item()
    return {"tilesPerSecond": (steps - 10) / (time.perf_counter() - start), "lastLoss": last}
