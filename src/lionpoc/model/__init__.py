"""Model: backbones and feature caches, optimizers (our Lion), heads, fine-tuning, evaluation."""
