"""GPU offload: what NVIDIA GPUs are present, and how many layers of a model fit on them."""
