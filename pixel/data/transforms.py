"""Image -> tensor transform shared by pretraining and finetuning (the published ``get_transforms`` without resize)."""

import numpy as np
import torch

__all__ = ["pixel_values_to_tensor"]


def pixel_values_to_tensor(pixel_values: np.ndarray) -> torch.Tensor:
    """Turn a rendered strip into a float tensor in [0, 1], white = 1.0, no normalisation.

    Args:
        pixel_values: uint8 ``[H, W]`` (grayscale) or ``[H, W, 3]`` (RGB), as in ``Encoding.pixel_values``.

    Returns:
        float32 ``[3, H, W]``; grayscale is replicated to 3 channels because the models take RGB.
    """
    array = np.asarray(pixel_values)
    if array.ndim == 2:
        tensor = torch.from_numpy(np.ascontiguousarray(array)).unsqueeze(0).expand(3, -1, -1)  # (3, H, W)
    elif array.ndim == 3 and array.shape[-1] == 3:
        tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)  # (H, W, 3) -> (3, H, W)
    elif array.ndim == 3 and array.shape[-1] == 1:
        tensor = torch.from_numpy(np.ascontiguousarray(array[..., 0])).unsqueeze(0).expand(3, -1, -1)
    else:
        raise ValueError(f"pixel_values must be [H, W] or [H, W, 3]; got shape {array.shape}")
    if array.dtype == np.uint8:
        return tensor.float().div_(255.0).contiguous()
    if np.issubdtype(array.dtype, np.floating):
        return tensor.float().contiguous()
    raise ValueError(f"pixel_values must be uint8 (0-255) or float (0-1); got dtype {array.dtype}")
