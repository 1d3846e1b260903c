"""torch.save of a checkpoint file, flushed to disk as unet-torch's atomic writes are; bench/checkpoint.js
runs the same: python bench/checkpoint.py SOURCE OUT REPEATS -> {"ms": best, "bytes": the file's size}."""
import json
import os
import sys
import time

import torch


def main() -> None:
    source, out, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    checkpoint = torch.load(source, weights_only=True)
    best = float("inf")
    for run in range(repeats + 1):  # an untimed warm-up first: this process's first save is cold
        start = time.perf_counter()
        with open(out, "wb") as file:
            torch.save(checkpoint, file)
            file.flush()
            os.fsync(file.fileno())
        if run > 0:
            best = min(best, (time.perf_counter() - start) * 1000)
    print(json.dumps({"ms": best, "bytes": os.path.getsize(out)}))


if __name__ == "__main__":
    main()
