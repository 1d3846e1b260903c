"""Command line of the PyTorch reference.

    python -m reference unet --preset compact --weights W --input X --out Y
        Forward pass (evaluation mode) of the reference U-Net with weights W (.safetensors or
        .pt state dict) on X (.npy or .safetensors with key "input"), logits written to Y (.npy).
    python -m reference compare --preset P --data D --out R [--steps 20 --lr 0.01 --momentum 0.99]
        What `unet compare` runs on the PyTorch side: D holds the initial weights ("weight.<key>"),
        the input "x" and the target "target"; R receives logits, loss, gradients, the loss of
        each SGD step and the final weights, and the timings as metadata.
    python -m reference bench-unet --preset P --mode train|forward --size S --steps N --threads T
        Time per step and peak memory of the reference U-Net, as JSON.
    python -m reference weightmap --labels L --out W [--mask --gaps --w0 --sigma --preset]
        The border weight map with one scipy distance transform per cell.
    python -m reference apply-field --input X --field F --mode bicubic|bilinear|nearest --out Y
        X (2-d .npy) resampled through the field F (.npy, H x W x 2, (dy, dx)) with mirroring.
    python -m reference bench-augment --size 572 --samples 20
        Samples/s of the scipy pipeline (elastic + rotation + flip on image, label, weights).
    python -m reference bench-predict --preset P --size 2048 --tile 572 [--precision bfloat16]
        Time of the overlap-tile prediction of a SIZE x SIZE image, and peak memory, as JSON.
    python -m reference bench-train --preset P --tile 316 --steps 20
        Tiles/s of a plain PyTorch training loop (random tile, weighted loss, SGD), as JSON.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from dataclasses import replace

from .unet import PRESETS, UNet, UNetOptions, output_extent


def load_state(path: str) -> dict:
    return load_file(path) if path.endswith(".safetensors") else torch.load(path, weights_only=True)


def build(preset: str, options: str | None) -> UNet:
    changes = UNetOptions.snake_case(json.loads(options)) if options else {}
    return UNet(replace(PRESETS[preset], **changes))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def command_unet(args: argparse.Namespace) -> None:
    model = build(args.preset, args.options)
    if args.weights:
        model.load_state_dict(load_state(args.weights))
    model.eval()
    x = torch.from_numpy(np.load(args.input)) if args.input.endswith(".npy") else load_file(args.input)["input"]
    with torch.no_grad():
        logits = model(x.float())
    np.save(args.out, logits.numpy())
    print(f"wrote logits {tuple(logits.shape)} to {args.out}")


def command_compare(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    data = load_file(args.data)
    model = build(args.preset, args.options)
    model.load_state_dict({k[len("weight."):]: v for k, v in data.items() if k.startswith("weight.")})
    model.eval()  # drop-out off: the comparison is of the computation, not of random masks
    x, target = data["x"], data["target"]
    outputs: dict[str, torch.Tensor] = {}
    forward_ms = float("inf")
    for run in range(4):  # the best of three after a warm-up, as the TypeScript side measures
        start = time.perf_counter()
        with torch.no_grad():
            model(x)
        if run > 0:
            forward_ms = min(forward_ms, (time.perf_counter() - start) * 1000)
    logits = model(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    outputs["logits"], outputs["loss"] = logits.detach(), loss.detach()
    for name, p in model.named_parameters():
        outputs["grad." + name] = p.grad.clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, foreach=False)
    losses = []
    start = time.perf_counter()
    for _ in range(args.steps):
        optimizer.zero_grad()
        step_loss = F.cross_entropy(model(x), target)
        step_loss.backward()
        optimizer.step()
        losses.append(step_loss.item())
    step_ms = (time.perf_counter() - start) * 1000 / max(args.steps, 1)
    outputs["losses"] = torch.tensor(losses, dtype=torch.float64)
    for k, v in model.state_dict().items():
        outputs["final." + k] = v.contiguous()
    save_file(outputs, args.out, metadata={"forwardMs": str(forward_ms), "stepMs": str(step_ms)})


def command_bench(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.preset, None)
    size = args.size
    out = output_extent(size, PRESETS[args.preset].depth, PRESETS[args.preset].padding)
    x = torch.randn(1, 1, size, size)
    target = torch.randint(0, 2, (1, out, out))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99, foreach=False)

    def step() -> float:
        if args.mode == "forward":
            model.eval()
            with torch.no_grad():
                return float(model(x).sum())
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        return loss.item()

    step()  # warm-up
    best = float("inf")
    for _ in range(args.steps):
        start = time.perf_counter()
        value = step()
        best = min(best, (time.perf_counter() - start) * 1000)
    print(json.dumps({"msPerStep": best, "peakRssMb": peak_rss_mb(), "last": value}))


def command_weightmap(args: argparse.Namespace) -> None:
    from .weightmap import connected_components, insert_gaps, weight_map

    labels = np.load(args.labels).astype(np.int64)

    def compute() -> np.ndarray:
        instances = connected_components(labels, args.connectivity) if args.mask else labels
        if args.gaps or args.preset == "falk2019":
            instances = insert_gaps(instances)
        return weight_map(instances, w0=args.w0, sigma=args.sigma, preset=args.preset)

    # The best of up to three runs, as the TypeScript side takes its best: a second run reuses the
    # memory the first touched. Runs stop after 2 s in all (the 1,000-cell image takes minutes).
    best, spent = float("inf"), 0.0
    for _ in range(3):
        start = time.perf_counter()
        weights = compute()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed * 1000), spent + elapsed
        if spent > 2:
            break
    np.save(args.out, weights)
    print(json.dumps({"ms": best}))


def command_apply_field(args: argparse.Namespace) -> None:
    from .augment import ORDER, apply_field

    array, field = np.load(args.input), np.load(args.field).astype(np.float64)
    np.save(args.out, apply_field(array, field, ORDER[args.mode]))


def command_bench_augment(args: argparse.Namespace) -> None:
    from .augment import augment_sample

    rng = np.random.default_rng(0)
    image = rng.random((args.size, args.size), dtype=np.float32)
    label = rng.integers(0, 20, (args.size, args.size)).astype(np.int32)
    weights = rng.random((args.size, args.size), dtype=np.float32)
    augment_sample(rng, image, label, weights)  # warm-up
    start = time.perf_counter()
    for _ in range(args.samples):
        augment_sample(rng, image, label, weights)
    print(json.dumps({"samplesPerSecond": args.samples / (time.perf_counter() - start)}))


def command_bench_predict(args: argparse.Namespace) -> None:
    from .overlap_tile import predict

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.preset, None)
    image = np.random.default_rng(0).standard_normal((1, args.size, args.size)).astype(np.float32)
    predict(model, image[:, :64, :64], args.tile, args.precision)  # warm-up
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        probabilities = predict(model, image, args.tile, args.precision)
        best = min(best, (time.perf_counter() - start) * 1000)
    print(json.dumps({"ms": best, "peakRssMb": peak_rss_mb(), "shape": list(probabilities.shape)}))


def command_bench_train(args: argparse.Namespace) -> None:
    from .overlap_tile import training_steps

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.preset, None)
    rng = np.random.default_rng(0)
    image = rng.standard_normal((1, 256, 256)).astype(np.float32)
    target = (rng.random((256, 256)) > 0.5).astype(np.int64)
    weights = rng.random((256, 256)).astype(np.float32) + 0.5
    training_steps(model, image, target, weights, args.tile, 2)  # warm-up
    start = time.perf_counter()
    losses = training_steps(model, image, target, weights, args.tile, args.steps, seed=1)
    elapsed = time.perf_counter() - start
    print(json.dumps({"tilesPerSecond": args.steps / elapsed, "peakRssMb": peak_rss_mb(), "lastLoss": losses[-1]}))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m reference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    unet = commands.add_parser("unet", help="forward pass of the reference U-Net")
    compare = commands.add_parser("compare", help="the PyTorch side of `unet compare`")
    bench = commands.add_parser("bench-unet", help="time and peak memory of the reference U-Net")
    weights = commands.add_parser("weightmap", help="the border weight map, one distance transform per cell (scipy)")
    weights.add_argument("--labels", required=True, help=".npy label image")
    weights.add_argument("--out", required=True)
    weights.add_argument("--mask", action="store_true")
    weights.add_argument("--connectivity", type=int, default=4)
    weights.add_argument("--gaps", action="store_true")
    weights.add_argument("--w0", type=float, default=10.0)
    weights.add_argument("--sigma", type=float, default=5.0)
    weights.add_argument("--preset", default=None)
    apply = commands.add_parser("apply-field", help="resample a 2-d .npy through a field (H, W, 2) with map_coordinates")
    apply.add_argument("--input", required=True)
    apply.add_argument("--field", required=True)
    apply.add_argument("--mode", choices=["nearest", "bilinear", "bicubic"], default="bicubic")
    apply.add_argument("--out", required=True)
    bench_augment = commands.add_parser("bench-augment", help="samples/s of the scipy augmentation pipeline")
    bench_augment.add_argument("--size", type=int, default=572)
    bench_augment.add_argument("--samples", type=int, default=20)
    bench_predict = commands.add_parser("bench-predict", help="time of the overlap-tile prediction of a SIZE x SIZE image")
    bench_predict.add_argument("--size", type=int, default=512)
    bench_predict.add_argument("--tile", type=int, default=572)
    bench_predict.add_argument("--repeats", type=int, default=2)
    bench_predict.add_argument("--precision", default="float32", choices=["float32", "float16", "bfloat16"])
    bench_train = commands.add_parser("bench-train", help="tiles/s of a plain PyTorch training loop (one random tile per step)")
    bench_train.add_argument("--tile", type=int, default=316)
    bench_train.add_argument("--steps", type=int, default=20)
    for sub in (bench_predict, bench_train):
        sub.add_argument("--threads", type=int, default=torch.get_num_threads())
    for sub in (unet, compare, bench, bench_predict, bench_train):
        sub.add_argument("--preset", default="compact", choices=sorted(PRESETS))
    for sub in (unet, compare):
        sub.add_argument("--options", help="JSON of option changes, with the TypeScript names")
    unet.add_argument("--weights")
    unet.add_argument("--input", required=True)
    unet.add_argument("--out", required=True)
    compare.add_argument("--data", required=True)
    compare.add_argument("--out", required=True)
    compare.add_argument("--steps", type=int, default=20)
    compare.add_argument("--lr", type=float, default=0.01)
    compare.add_argument("--momentum", type=float, default=0.99)
    compare.add_argument("--threads", type=int, default=torch.get_num_threads())
    bench.add_argument("--mode", choices=["train", "forward"], default="train")
    bench.add_argument("--size", type=int, default=572)
    bench.add_argument("--steps", type=int, default=3)
    bench.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    {"unet": command_unet, "compare": command_compare, "bench-unet": command_bench, "weightmap": command_weightmap,
     "apply-field": command_apply_field, "bench-augment": command_bench_augment,
     "bench-predict": command_bench_predict, "bench-train": command_bench_train}[args.command](args)


if __name__ == "__main__":
    main(sys.argv[1:])
