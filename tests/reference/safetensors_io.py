"""Reads and writes safetensors files with numpy alone.

The format: an 8-byte little-endian header length N, N bytes of JSON mapping
each tensor name to {"dtype", "shape", "data_offsets"} (plus an optional
"__metadata__" of strings), then the raw little-endian tensor bytes. The C++
side (common/safetensors.h) reads and writes the same files.

Published models store their weights in 16 bits as often as in 32:
  F16   IEEE half precision: numpy's float16.
  BF16  bfloat16, the top 16 bits of a float32 (same exponent range, 8 bits
        of mantissa). numpy has no such type, so this module holds a BF16
        tensor as its uint16 bit patterns: read() returns them, and write()
        stores a uint16 array as BF16.
read(path, widen=True) turns both into float32 (exactly: every F16 and BF16
value is a float32); write(..., dtypes={name: "BF16"}) rounds float32 values
to the nearest bfloat16 (ties to even), dtypes={name: "F16"} to float16.
"""
import json
import os
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "I32": np.int32, "I64": np.int64,
           "F16": np.float16, "BF16": np.uint16}   # BF16: its bit patterns
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def bfloat16_bits(values):
    """float32 values -> their nearest bfloat16s (ties to even), as uint16 bit patterns."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    # Adding 0x7FFF plus the lowest kept bit, then cutting the low 16 bits, rounds
    # to nearest with ties to even; a carry out of the mantissa steps the exponent
    # (up to infinity, as rounding should).
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    # A NaN must stay a NaN: keep its sign and top bits, set the quiet bit.
    rounded[nan] = ((bits[nan] >> 16).astype(np.uint16) | np.uint16(0x0040))
    return rounded


def bfloat16_to_float32(bits):
    """uint16 bfloat16 bit patterns -> float32 values (exact)."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def stored_array(array, dtype, name="tensor"):
    """The array converted to the numpy type that holds `dtype` ("F32", "BF16", ...) here:
    what write(..., dtypes={name: dtype}) stores. None leaves it as it is."""
    if dtype is None:
        return array
    if dtype not in _DTYPES:
        raise ValueError(f"{name}: unknown dtype {dtype!r} (known: {', '.join(_DTYPES)})")
    if dtype == "BF16" and array.dtype != np.uint16:
        if array.dtype.kind != "f":
            raise ValueError(f"{name}: BF16 from {array.dtype} values")
        return bfloat16_bits(array.astype(np.float32))
    return array.astype(_DTYPES[dtype])


def write(path, tensors, metadata=None, dtypes=None):
    """Writes {name: array} and {key: str} atomically.

    An array is stored as its own type: float32, int32, int64, float16 (F16) or
    uint16 (BF16 bit patterns). dtypes {name: "F16" | "BF16" | ...} converts
    the named arrays first (floats to BF16 round to nearest, ties to even).
    """
    dtypes = dtypes or {}
    unknown = sorted(set(dtypes) - set(tensors))
    if unknown:
        raise ValueError(f"dtypes names tensors that are not given: {unknown}")
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        array = stored_array(np.asarray(tensors[name]), dtypes.get(name), name)
        array = np.ascontiguousarray(array)
        if array.dtype not in _NAMES:
            raise ValueError(f"{name}: unsupported dtype {array.dtype}")
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(temporary, path)


def read_header(path):
    """({name: {"dtype", "shape", "data_offsets"}}, {key: str}) without reading the tensors."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    metadata = header.pop("__metadata__", {})
    return header, metadata


def read(path, widen=False):
    """Returns ({name: array}, {key: str}).

    F16 tensors come back as float16 and BF16 ones as uint16 bit patterns,
    unless widen=True: then both come back as float32 (exact).
    """
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if entry["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: {name} has dtype {entry['dtype']}, which this reader"
                             f" does not know (it knows {', '.join(_DTYPES)})")
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        array = np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"])
        if widen and entry["dtype"] == "F16":
            array = array.astype(np.float32)
        elif widen and entry["dtype"] == "BF16":
            array = bfloat16_to_float32(array)
        tensors[name] = array
    return tensors, metadata
