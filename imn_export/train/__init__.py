"""Training: data and pairing, losses, trainers, checkpoints."""
