"""Per-call overhead of three representative calls in PyTorch; bench/overhead.js runs the same loops."""
import json
import sys
import time

import torch


def best_ns_per_call(loop, calls: int, repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter_ns()
        loop(calls)
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def main() -> None:
    calls = int(sys.argv[1])
    torch.set_num_threads(1)
    a = torch.ones(1)
    b = torch.ones(1)
    scalar = torch.tensor(1.5)

    def new_tensor(n: int) -> None:
        for _ in range(n):
            a.add(b)

    def in_place(n: int) -> None:
        for _ in range(n):
            a.add_(b)

    def item(n: int) -> None:
        for _ in range(n):
            scalar.item()

    print(json.dumps({
        "newTensor": best_ns_per_call(new_tensor, calls),
        "inPlace": best_ns_per_call(in_place, calls),
        "item": best_ns_per_call(item, calls),
    }))


if __name__ == "__main__":
    main()
