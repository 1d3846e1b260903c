"""One PyTorch rank of test/distributed.test.ts, in the same group as Node ranks.

    python -m reference.distributed_rank SCENARIO RANK PORT [OUT]

SCENARIO is `collectives` (the collectives of test/support/dist-rank.js, in the same order) or
`ddp` (the same 10 DistributedDataParallel steps). Prints one line of JSON; `ddp` writes the
last gradients and the final weights to the safetensors file OUT.
"""
import datetime
import json
import sys

import torch
import torch.distributed as dist
from safetensors.torch import save_file


def collectives() -> dict:
    r = dist.get_rank()
    total = torch.tensor([1.0 + r, 10.0 * (r + 1)])
    dist.all_reduce(total)
    # Gloo has no AVG: sum and divide, as the Node side does.
    avg = torch.tensor([1.0 + r, 10.0 * (r + 1)])
    dist.all_reduce(avg)
    avg /= dist.get_world_size()
    low = torch.tensor([1 + r, 10 - r])
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    high = torch.tensor([1 + r, 10 - r])
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    product = torch.tensor([2.0 + r, 3.0], dtype=torch.float64)
    dist.all_reduce(product, op=dist.ReduceOp.PRODUCT)
    broadcast = torch.tensor([float(r), r + 0.25])
    dist.broadcast(broadcast, src=1)
    gathered = [torch.zeros(2), torch.zeros(2)]
    dist.all_gather(gathered, torch.tensor([float(r), r + 0.5]))
    scattered = torch.zeros(2, dtype=torch.int64)
    dist.reduce_scatter(scattered, [torch.tensor([1, 2]), torch.tensor([3 + r, 4])])
    dist.barrier()
    return {
        "rank": r,
        "worldSize": dist.get_world_size(),
        "sum": total.tolist(),
        "avg": avg.tolist(),
        "min": low.tolist(),
        "max": high.tolist(),
        "product": product.tolist(),
        "broadcast": broadcast.tolist(),
        "allGather": [t.tolist() for t in gathered],
        "reduceScatter": scattered.tolist(),
    }


def ddp(out: str, steps: int = 10) -> dict:
    r = dist.get_rank()
    torch.manual_seed(100 + r)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3, padding=1)
    )
    wrapped = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(1)
    tiles = torch.randn(steps, 2, 1, 12, 12)
    targets = torch.randn(steps, 2, 2, 12, 12)
    losses = []
    tensors = {}
    for step in range(steps):
        optimizer.zero_grad()
        difference = wrapped(tiles[step, r : r + 1]) - targets[step, r : r + 1]
        loss = (difference * difference).mean()
        loss.backward()
        losses.append(loss.item())
        if step == steps - 1:
            tensors.update({f"grad.{n}": p.grad.clone() for n, p in model.named_parameters()})
        optimizer.step()
    tensors.update({f"weight.{n}": p.detach().clone() for n, p in model.named_parameters()})
    save_file(tensors, out)
    return {"rank": r, "losses": losses}


def main() -> None:
    scenario, rank, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2, timeout=datetime.timedelta(seconds=20)
    )
    result = collectives() if scenario == "collectives" else ddp(sys.argv[4])
    print(json.dumps(result), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
