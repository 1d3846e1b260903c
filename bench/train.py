"""A small CNN built from nn modules, trained with SGD (momentum), in PyTorch; bench/train.js runs
the identical loop. Prints the best milliseconds per step and the last loss as JSON."""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from support import report_best_ms_per_step


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

    report_best_ms_per_step(step, steps, device)


if __name__ == "__main__":
    main()
