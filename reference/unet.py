"""The U-Net of Ronneberger et al. 2015 in PyTorch: the reference for lib/unet in TypeScript.

Same options, presets, initialisation (and random-number consumption) and state-dict keys as the
TypeScript UNet, so that the same seed gives the same weights and the same weights give the same
numbers on both sides.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class UNetOptions:
    in_channels: int = 1
    classes: int = 2
    depth: int = 5
    base_channels: int = 64
    padding: str = "valid"  # "valid" (the paper) or "same"
    upsampling: str = "transposed"  # "transposed" (the paper) or "bilinear"
    normalization: str = "none"  # "none" (the paper), "batch", "instance", "group"
    groups: int = 8
    activation: str = "relu"  # "relu" (the paper) or "leakyRelu"
    negative_slope: float = 0.01
    dropout: float = 0.5
    init: str = "paper"  # "paper" or "pytorch"

    @staticmethod
    def snake_case(values: dict) -> dict:
        """Option names as the TypeScript side writes them (inChannels, baseChannels, ...) in Python's style."""
        return {"".join("_" + c.lower() if c.isupper() else c for c in k): v for k, v in values.items()}

    @staticmethod
    def from_camel(values: dict) -> "UNetOptions":
        return UNetOptions(**UNetOptions.snake_case(values))


PRESETS = {
    "ronneberger2015": UNetOptions(),
    "compact": UNetOptions(base_channels=16),
    "padded": UNetOptions(base_channels=32, padding="same", normalization="batch", activation="leakyRelu", dropout=0.0),
}


def _norm(options: UNetOptions, channels: int) -> nn.Module:
    if options.normalization == "batch":
        return nn.BatchNorm2d(channels)
    if options.normalization == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if options.normalization == "group":
        return nn.GroupNorm(options.groups, channels)
    return nn.Identity()


class DoubleConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, options: UNetOptions) -> None:
        super().__init__()
        padding = 1 if options.padding == "same" else 0
        bias = options.normalization == "none"
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=padding, bias=bias)
        self.norm1 = _norm(options, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=padding, bias=bias)
        self.norm2 = _norm(options, out_channels)
        self.activation = nn.LeakyReLU(options.negative_slope) if options.activation == "leakyRelu" else nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.activation(self.norm1(self.conv1(x)))
        return self.activation(self.norm2(self.conv2(x)))


def centre_crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    h, w = x.shape[2], x.shape[3]
    if (h, w) == (height, width):
        return x
    top, left = (h - height) // 2, (w - width) // 2
    return x.narrow(2, top, height).narrow(3, left, width)


class UpStep(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, options: UNetOptions) -> None:
        super().__init__()
        if options.upsampling == "transposed":
            self.upsample = None
            self.upconv = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        else:
            self.upsample = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            self.upconv = nn.Conv2d(in_channels, out_channels, 1)
        self.conv = DoubleConv(2 * out_channels, out_channels, options)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = self.upconv(x if self.upsample is None else self.upsample(x))
        joined = torch.cat([centre_crop(skip, up.shape[2], up.shape[3]), up], 1)
        return self.conv(joined)


class UNet(nn.Module):
    def __init__(self, options: UNetOptions) -> None:
        super().__init__()
        self.options = options
        channels = [options.base_channels * 2**level for level in range(options.depth)]
        self.down = nn.ModuleList(
            DoubleConv(options.in_channels if level == 0 else channels[level - 1], out, options) for level, out in enumerate(channels)
        )
        self.up = nn.ModuleList(UpStep(out * 2, out, options) for out in reversed(channels[:-1]))
        self.head = nn.Conv2d(options.base_channels, options.classes, 1)
        self.pool = nn.MaxPool2d(2)
        if options.dropout > 0:
            self.dropout = nn.Dropout(options.dropout)
        else:
            self.dropout = None
        if options.init == "paper":
            self._paper_init()

    @torch.no_grad()
    def _paper_init(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                kh, kw = module.weight.shape[2:]
                fan_in = module.in_channels if isinstance(module, nn.ConvTranspose2d) else module.in_channels * kh * kw
                nn.init.normal_(module.weight, 0, math.sqrt(2 / fan_in))
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for index, level in enumerate(self.down):
            x = level(x)
            if index < len(self.down) - 1:
                skips.append(x)
                x = self.pool(x)
            elif self.dropout is not None:
                x = self.dropout(x)
        for step in self.up:
            x = step(x, skips.pop())
        return self.head(x)


def create_unet(preset: str, **changes) -> UNet:
    return UNet(replace(PRESETS[preset], **changes))


def output_extent(size: int, depth: int, padding: str) -> int | None:
    if padding == "same":
        return size if size % 2 ** (depth - 1) == 0 else None
    for _ in range(depth - 1):
        size -= 4
        if size <= 0 or size % 2:
            return None
        size //= 2
    size -= 4
    if size <= 0:
        return None
    for _ in range(depth - 1):
        size = size * 2 - 4
    return size if size > 0 else None


__all__ = ["UNet", "UNetOptions", "PRESETS", "create_unet", "output_extent", "asdict"]
