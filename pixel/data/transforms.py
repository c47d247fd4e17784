"""Rendered strips -> model pixels (the published ``get_transforms`` without resize): one strip, or a batch.

Every path from strips to ``pixel_values`` goes through ``write_channels``: single strips
(``pixel_values_to_tensor``), the processor's batches (``pixel_batch`` in ``collate_encodings``) and the
pretraining collator, so they are byte-identical by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["pixel_batch", "pixel_values_to_tensor", "write_channels"]


def write_channels(pixel_values: np.ndarray, out: np.ndarray) -> None:
    """Write the first ``out.shape[-1]`` columns of a strip into ``out`` ``[3, H, w]``, channels first, in one pass.

    ``pixel_values``: uint8 ``[H, W]`` (grayscale, replicated to 3 channels) or ``[H, W, 3]`` (RGB), as in
    ``Encoding.pixel_values``; float input is taken to be in [0, 1] already. A float32 ``out`` gets values in
    [0, 1], white = 1.0: uint8 divided by 255 in float32, correctly rounded, so bit-identical to torchvision's
    ``ToTensor``; a uint8 ``out`` gets the bytes as they are.
    """
    pixels = np.asarray(pixel_values)
    width = out.shape[-1]
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim == 3 and pixels.shape[-1] == 3:
        channels = pixels[:, :width].transpose(2, 0, 1)  # (H, W, 3) -> (3, H, w), a view
    elif pixels.ndim == 2:
        channels = pixels[None, :, :width]  # (1, H, w), broadcast over the 3 channels
    else:
        raise ValueError(f"pixel_values must be [H, W] or [H, W, 3]; got shape {pixels.shape}")
    if pixels.dtype == np.uint8:
        if out.dtype == np.uint8:
            out[...] = channels
        else:
            np.divide(channels, np.float32(255.0), out=out, dtype=np.float32)
    elif np.issubdtype(pixels.dtype, np.floating) and out.dtype == np.float32:
        out[...] = channels
    else:
        allowed = "uint8 (0-255)" if out.dtype == np.uint8 else "uint8 (0-255) or float (0-1)"
        raise ValueError(f"pixel_values must be {allowed}; got dtype {pixels.dtype}")


def pixel_values_to_tensor(pixel_values: np.ndarray) -> torch.Tensor:
    """One rendered strip as float32 ``[3, H, W]`` in [0, 1], white = 1.0, no normalisation (``write_channels``).

    The conversion runs in numpy: on a single small strip torch's threaded elementwise kernels cost 2-20 ms in
    DataLoader workers against ~0.2 ms here.
    """
    array = np.asarray(pixel_values)
    if array.ndim not in (2, 3):
        raise ValueError(f"pixel_values must be [H, W] or [H, W, 3]; got shape {array.shape}")
    out = np.empty((3, *array.shape[:2]), np.float32)
    write_channels(array, out)
    return torch.from_numpy(out)


def pixel_batch(
    strips: Sequence[np.ndarray], width: int, *, uint8: bool = False, columns: Sequence[int] | None = None
) -> np.ndarray:
    """Strips as one C-contiguous batch ``[B, 3, H, width]``, each written once (``write_channels``).

    Row ``b`` holds the first ``columns[b]`` columns of its strip (default: ``width``; never more than the strip
    has), then white (255, or 1.0 for float32) up to ``width``. uint8 batches keep the bytes (a quarter of the float32 bytes
    for DataLoader workers to move; divide by 255 on the device).
    """
    if not strips:
        raise ValueError("cannot batch zero strips")
    height = np.asarray(strips[0]).shape[0]
    out = np.empty((len(strips), 3, height, width), np.uint8 if uint8 else np.float32)  # (B, 3, H, width)
    white = 255 if uint8 else 1.0
    for row, strip in enumerate(strips):
        strip = np.asarray(strip)
        if strip.shape[0] != height:
            raise ValueError(f"strip {row} is {strip.shape[0]} px high, strip 0 is {height} px")
        used = min(strip.shape[1], width, width if columns is None else columns[row])  # a narrow strip: all
        write_channels(strip, out[row, :, :, :used])
        out[row, :, :, used:] = white
    return out
