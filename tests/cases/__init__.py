"""Reference cases, one module per chapter: cases() returns {name: (tensors, metadata)}.

Naming inside a case file:
  in.<name>     an input (token ids, activations)
  <param name>  a parameter, named as in the model (wte.weight, blocks.0.attn.qkv.bias)
  out.<name>    an output the C++ code must reproduce
"""
