"""The PyTorch reference GPT: one small module per chapter of the course."""
