"""Runs a snippet of PyTorch for the TypeScript parity tests.

    python -m reference.harness SCRIPT INPUTS OUTPUTS

SCRIPT is Python source that reads the dict `inputs` (tensors loaded from the safetensors file
INPUTS) and fills the dict `outputs`, which is written to the safetensors file OUTPUTS. The
input `__threads`, when present, is the caller's intra-op thread count: PyTorch runs with the same,
so that CPU reductions sum in the same order on both sides.
"""
import sys

import torch
from safetensors.torch import load_file, save_file


def main() -> None:
    script_path, inputs_path, outputs_path = sys.argv[1:4]
    inputs = load_file(inputs_path)
    if "__threads" in inputs:
        torch.set_num_threads(int(inputs.pop("__threads").item()))
    namespace = {"torch": torch, "inputs": inputs, "outputs": {}}
    with open(script_path, encoding="utf-8") as script:
        exec(compile(script.read(), script_path, "exec"), namespace)
    # clone(): views of one tensor would share memory, which safetensors refuses to write.
    outputs = {name: value.detach().contiguous().clone() for name, value in namespace["outputs"].items()}
    save_file(outputs, outputs_path)


if __name__ == "__main__":
    main()
