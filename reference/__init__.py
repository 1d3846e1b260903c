"""PyTorch reference implementations of what unet-torch builds, for side-by-side checks."""
