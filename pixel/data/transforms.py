"""Image -> tensor transform shared by pretraining and finetuning (the published ``get_transforms`` without resize)."""

import numpy as np
import torch

__all__ = ["pixel_values_to_tensor"]


def pixel_values_to_tensor(pixel_values: np.ndarray) -> torch.Tensor:
    """Turn a rendered strip into a float tensor in [0, 1], white = 1.0, no normalisation.

    The conversion runs in numpy: on a single small strip torch's threaded elementwise kernels cost 2-20 ms in
    DataLoader workers against ~0.2 ms here, and float32 division by 255 is correctly rounded in both, so the values
    are bit-identical to ``torchvision.transforms.ToTensor``.

    Args:
        pixel_values: uint8 ``[H, W]`` (grayscale) or ``[H, W, 3]`` (RGB), as in ``Encoding.pixel_values``;
            float input is taken to be in [0, 1] already.

    Returns:
        float32 ``[3, H, W]``; grayscale is replicated to 3 channels because the models take RGB.
    """
    array = np.asarray(pixel_values)
    if array.dtype == np.uint8:
        scaled = array.astype(np.float32) / np.float32(255.0)
    elif np.issubdtype(array.dtype, np.floating):
        scaled = array.astype(np.float32, copy=False)
    else:
        raise ValueError(f"pixel_values must be uint8 (0-255) or float (0-1); got dtype {array.dtype}")
    if scaled.ndim == 3 and scaled.shape[-1] == 1:
        scaled = scaled[..., 0]
    if scaled.ndim == 2:
        channels = np.broadcast_to(scaled, (3, *scaled.shape))  # (H, W) -> (3, H, W)
    elif scaled.ndim == 3 and scaled.shape[-1] == 3:
        channels = scaled.transpose(2, 0, 1)  # (H, W, 3) -> (3, H, W)
    else:
        raise ValueError(f"pixel_values must be [H, W] or [H, W, 3]; got shape {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(channels))
