"""Shared by the Python side of the step benchmarks: the timing loop, matching bench/support.js."""
import json
import time
from typing import Callable

import torch


def report_best_ms_per_step(step: Callable[[], float], steps: int, device: str) -> None:
    """Three rounds of `steps` calls; prints the best milliseconds per step and the last loss as JSON."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(steps):
            last_loss = step()
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - start) * 1000 / steps)
    print(json.dumps({"msPerStep": best, "lastLoss": last_loss}))
