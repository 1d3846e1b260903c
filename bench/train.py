"""A small CNN built from nn modules, trained with SGD (momentum), in PyTorch; bench/train.js runs
the identical loop. Prints the best milliseconds per step and the last loss as JSON."""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def main() -> None:
    steps, threads, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, 16, 2, stride=2), nn.ReLU(), nn.Conv2d(16, 2, 1),
    ).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, foreach=False)
    x = torch.randn(8, 1, 64, 64, device=device)
    target = torch.randint(0, 2, (8, 64, 64), device=device)

    def step() -> float:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()
        return loss.item()

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            last_loss = step()
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - start) * 1000 / steps)
    print(json.dumps({"msPerStep": best, "lastLoss": last_loss}))


if __name__ == "__main__":
    main()
