"""The augmentation of the TypeScript library, written with scipy: a field applied with
`map_coordinates` (mirroring), and the per-sample pipeline (elastic + rotation + flip) that the
benchmark runs as the baseline.

scipy's order-3 interpolation is a cubic B-spline (with its prefilter), where the library uses
Keys' cubic convolution (a = -0.75, as PyTorch's bicubic): both reproduce linear ramps and agree
on smooth images; they differ by a few percent of the local contrast at sharp edges.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

ORDER = {"nearest": 0, "bilinear": 1, "bicubic": 3}


def apply_field(array: np.ndarray, field: np.ndarray, order: int) -> np.ndarray:
    """out(y, x) = array(y + dy, x + dx) for a field (H, W, 2) of (dy, dx), mirrored at the borders."""
    h, w = array.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    coordinates = np.stack([ys + field[..., 0], xs + field[..., 1]])
    return ndimage.map_coordinates(array, coordinates, order=order, mode="mirror")


def sample_source(rng: np.random.Generator, h: int, w: int, grid=(3, 3), sigma=10.0, rotation=180.0, flip=True) -> np.ndarray:
    """The source coordinates (2, H, W) of the paper's elastic field (control points zoomed with
    cubic splines, corners aligned) composed with a rotation and flips about the centre."""
    control = rng.normal(0, sigma, (2, *grid))
    # Zooming is linear and separable: zoom the identity once per axis and multiply (what
    # ndimage.zoom of the control points computes, in a thousandth of its time).
    along_y = ndimage.zoom(np.eye(grid[0]), (h / grid[0], 1), order=3, mode="nearest", grid_mode=False)
    along_x = ndimage.zoom(np.eye(grid[1]), (w / grid[1], 1), order=3, mode="nearest", grid_mode=False)
    elastic = along_y @ control @ along_x.T
    angle = np.deg2rad(rng.uniform(-rotation, rotation))
    fy, fx = (rng.choice([-1, 1], 2) if flip else (1, 1))
    c, s = np.cos(angle), np.sin(angle)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    qy, qx = ys + elastic[0] - cy, xs + elastic[1] - cx
    sy = cy + c * fy * qy - s * fx * qx
    sx = cx + s * fy * qy + c * fx * qx
    return np.stack([sy, sx])


def augment_sample(rng: np.random.Generator, image: np.ndarray, label: np.ndarray, weights: np.ndarray):
    """One sample as the library's benchmark augments it: image with cubic splines, label nearest,
    weight map linear, all from the same source coordinates."""
    source = sample_source(rng, *image.shape)
    return tuple(ndimage.map_coordinates(a, source, order=order, mode="mirror") for a, order in ((image, 3), (label, 0), (weights, 1)))
