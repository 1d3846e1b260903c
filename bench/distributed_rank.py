"""One PyTorch rank of bench/distributed.js, the twin of bench/distributed-rank.js.

    python bench/distributed_rank.py MODE RANK WORLD PORT THREADS
"""
import json
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0])
from reference.unet import create_unet  # noqa: E402

TILE = 188
STEPS = 8
PAPER_PARAMETERS = 31_030_658


def main() -> None:
    mode, rank, world, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    torch.set_num_threads(threads)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    if mode == "allreduce":
        flat = torch.ones(PAPER_PARAMETERS)

        def step() -> None:
            dist.all_reduce(flat)
    else:
        torch.manual_seed(0)
        model = create_unet("compact")
        wrapped = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99)
        x = torch.randn(1, 1, TILE, TILE)
        with torch.no_grad():
            size = model(x).shape[-1]
        target = torch.randint(0, 2, (1, size, size))

        def step() -> None:
            optimizer.zero_grad()
            F.cross_entropy(wrapped(x), target).backward()
            optimizer.step()

    step()
    step()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        best = min(best, (time.perf_counter() - start) * 1000 / STEPS)
    if rank == 0:
        print(json.dumps({"msPerStep": best}), flush=True)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
