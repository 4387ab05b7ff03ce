"""Chapter 07: the whole GPT: embeddings, blocks, final LayerNorm, output projection."""
import math

import torch
from torch import nn
from torch.nn import functional as F

from .block import Block
from .embeddings import Embeddings


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config.check()
        self.embeddings = Embeddings(config)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        # Pre-LN blocks (GPT-2) leave the residual stream unnormalized, so GPT-2
        # adds ln_f before the output projection. The original post-LN GPT had
        # none (its blocks end in a LayerNorm); the course keeps ln_f in both
        # arrangements, so that the two differ only inside the blocks.
        self.ln_f = nn.LayerNorm(config.embed_size, eps=config.layernorm_eps)
        self.lm_head = nn.Linear(config.embed_size, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.embeddings.wte.weight
        self.init_weights()

    def init_weights(self):
        """GPT-2's initialisation: N(0, 0.02), residual projections / sqrt(2 L)."""
        residual_std = 0.02 / math.sqrt(2 * self.config.num_layers)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln" in name or name.startswith("ln_f"):
                nn.init.ones_(p)
            elif name.endswith("attn.proj.weight") or name.endswith("mlp.proj.weight"):
                nn.init.normal_(p, 0.0, residual_std)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def named_tensors(self):
        """The model's parameters under the names the C++ checkpoints use."""
        names = {}
        for name, p in self.named_parameters():   # a tied lm_head.weight appears once
            names[name.replace("embeddings.", "")] = p
        return names

    def forward(self, tokens, targets=None):      # tokens (B, T)
        x = self.embeddings(tokens)               # (B, T, C)
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        logits = self.lm_head(x)                  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss
