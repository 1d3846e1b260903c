"""The PyTorch side of bench/gpu.js: the reference U-Net's forward pass and training step on
CUDA (float32, and with AMP), best of N after warm-ups, and peak GPU memory; and overlap-tile
prediction of an image, the loop a PyTorch user would write (reference/overlap_tile.py).
    python bench/gpu_reference.py PRESET SIZE STEPS  ->  JSON
    python bench/gpu_reference.py predict PRESET SIZE TILE BATCH PRECISION REPEATS  ->  JSON {ms}
    python bench/gpu_reference.py train-loop FOLDER PRESET TILE STEPS loader|device WORKERS  ->  JSON
        the training loop of reference/training_loop.py on the samples FOLDER holds (K.image.npy,
        K.target.npy, K.weights.npy), on CUDA: {tilesPerSecond, lastLoss}
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from reference.overlap_tile import predict  # noqa: E402
from reference.training_loop import train_tiles_per_second  # noqa: E402
from reference.unet import PRESETS, create_unet, output_extent  # noqa: E402


def prediction() -> None:
    preset, size, tile, batch, precision, repeats = sys.argv[2], *map(int, sys.argv[3:6]), sys.argv[6], int(sys.argv[7])
    torch.manual_seed(0)
    model = create_unet(preset).cuda()
    image = np.random.default_rng(0).standard_normal((1, size, size)).astype(np.float32)
    for _ in range(2):
        predict(model, image, tile, precision, "cuda", batch)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        predict(model, image, tile, precision, "cuda", batch)  # ends with the copy to the CPU
        best = min(best, (time.perf_counter() - start) * 1000)
    print(json.dumps({"ms": best}))


def main() -> None:
    preset, size, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    baseline = torch.cuda.memory_allocated()
    model = create_unet(preset).cuda()
    out = output_extent(size, PRESETS[preset].depth, PRESETS[preset].padding)
    x = torch.randn(1, 1, size, size, device="cuda")
    target = torch.randint(0, 2, (1, out, out), device="cuda")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99)
    scaler = torch.amp.GradScaler("cuda")
    results = {}

    def forward() -> None:
        model.eval()
        with torch.no_grad():
            model(x).sum().item()

    def train(amp: bool) -> None:
        model.train()
        optimizer.zero_grad()
        with torch.autocast("cuda", enabled=amp):
            loss = F.cross_entropy(model(x), target)
        if amp:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        loss.item()

    for name, step in (("forward", forward), ("train", lambda: train(False)), ("trainAmp", lambda: train(True))):
        for _ in range(2):
            step()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        best = float("inf")
        for _ in range(steps):
            start = time.perf_counter()
            step()
            torch.cuda.synchronize()
            best = min(best, (time.perf_counter() - start) * 1000)
        results[name] = {"ms": best, "peakMb": (torch.cuda.max_memory_allocated() - baseline) / 2**20}
    results["device"] = torch.cuda.get_device_name(0)
    results["torch"] = torch.__version__
    print(json.dumps(results))


def training_loop() -> None:
    folder, preset, tile, steps, augment, workers = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
    count = len([name for name in os.listdir(folder) if name.endswith(".image.npy")])
    images, targets, weights = ([np.load(os.path.join(folder, f"{k}.{part}.npy")) for k in range(count)] for part in ("image", "target", "weights"))
    torch.manual_seed(0)
    model = create_unet(preset)
    print(json.dumps(train_tiles_per_second(model, images, targets, weights, tile, steps, augment, "cuda", workers)))


if __name__ == "__main__":
    {"predict": prediction, "train-loop": training_loop}.get(sys.argv[1], main)()
