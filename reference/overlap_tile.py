"""The overlap-tile strategy and a training loop written plainly in PyTorch: the baselines of
the prediction and training benchmarks.

Prediction: the image is mirror-padded (numpy's "reflect", the library's mirroring) and cut into
tiles whose outputs start on multiples of the pooling factor, as `lib/predict/overlap-tile.ts`
does. Training: one random tile per step, read with mirroring, the weighted soft-max
cross-entropy, SGD with momentum 0.99.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .unet import UNet, output_extent


def predict(model: UNet, image: np.ndarray, tile: int, precision: str = "float32", device: str = "cpu", batch: int = 1) -> torch.Tensor:
    """Class probabilities (C, H, W), float32 on the CPU, of a (C, H, W) image by overlap-tile:
    the padded image on `device`, `batch` tiles per forward pass, the network under autocast in
    `precision` (float32, float16 or bfloat16)."""
    options = model.options
    out = output_extent(tile, options.depth, options.padding)
    margin = (tile - out) // 2
    unit = 2 ** (options.depth - 1)
    step = out // unit * unit
    _, h, w = image.shape
    rows, columns = range(0, h, step), range(0, w, step)
    pad_after = (max(rows) + tile - margin - h, max(columns) + tile - margin - w)
    padded = torch.from_numpy(np.pad(image, ((0, 0), (margin, pad_after[0]), (margin, pad_after[1])), mode="reflect")).to(device)
    result = torch.empty(options.classes, h, w, device=device)
    corners = [(top, left) for top in rows for left in columns]
    autocast = torch.autocast(torch.device(device).type, dtype=getattr(torch, precision), enabled=precision != "float32")
    model.eval()
    with torch.no_grad():
        for first in range(0, len(corners), batch):
            group = corners[first:first + batch]
            with autocast:
                logits = model(torch.stack([padded[:, top:top + tile, left:left + tile] for top, left in group]))
            for k, (top, left) in enumerate(group):
                hh, ww = min(step, h - top), min(step, w - left)
                result[:, top:top + hh, left:left + ww] = logits[k, :, :hh, :ww]
    return torch.softmax(result, 0).cpu()


def training_steps(model: UNet, image: np.ndarray, target: np.ndarray, weights: np.ndarray, tile: int, steps: int, seed: int = 0) -> list[float]:
    """`steps` SGD steps (momentum 0.99, lr 0.01) on random tiles of one image; the losses."""
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99, foreach=False)
    half = tile // 2
    padded = [np.pad(a, [(0, 0)] * (a.ndim - 2) + [(half, half), (half, half)], mode="reflect") for a in (image, target, weights)]
    losses = []
    model.train()
    for _ in range(steps):
        y, x = rng.integers(0, image.shape[-2]), rng.integers(0, image.shape[-1])
        crop = [torch.from_numpy(np.ascontiguousarray(a[..., y:y + tile, x:x + tile])) for a in padded]
        logits = model(crop[0][None])
        out = logits.shape[-1]
        margin = (tile - out) // 2
        t = crop[1][None, margin:margin + out, margin:margin + out].long()
        w = crop[2][None, margin:margin + out, margin:margin + out]
        loss = (F.cross_entropy(logits, t, reduction="none") * w).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
