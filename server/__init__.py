"""Zone side of twinteller: Triton launcher, zone registration, training."""
