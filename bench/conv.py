"""A small convolutional network's training step (forward, loss, backward, SGD update) in PyTorch;
bench/conv.js runs the identical step. Prints the best milliseconds per step as JSON."""
import sys

import torch
import torch.nn.functional as F

from support import report_best_ms_per_step


def main() -> None:
    steps, threads, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    shapes = [[16, 1, 3, 3], [16], [32, 16, 3, 3], [32], [32, 16, 2, 2], [16], [2, 16, 1, 1], [2]]
    params = [(torch.randn(s) * 0.1).to(device).requires_grad_(True) for s in shapes]
    x = torch.randn(8, 1, 64, 64, device=device)
    target = torch.randint(0, 2, (8, 64, 64), device=device)

    def step() -> float:
        w1, b1, w2, b2, wt, bt, w3, b3 = params
        h = F.relu(F.conv2d(x, w1, b1, padding=1))
        h = F.max_pool2d(h, 2)
        h = F.relu(F.conv2d(h, w2, b2, padding=1))
        h = F.relu(F.conv_transpose2d(h, wt, bt, stride=2))
        loss = F.cross_entropy(F.conv2d(h, w3, b3), target)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-0.01)
                p.grad = None
        return loss.item()

    report_best_ms_per_step(step, steps, device)


if __name__ == "__main__":
    main()
