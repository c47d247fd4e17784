import numpy as np
import pytest
import torch

from pixel.data.transforms import pixel_values_to_tensor


def test_grayscale_is_replicated_and_scaled_like_to_tensor():
    gray = np.arange(16 * 32, dtype=np.int64).reshape(16, 32).astype(np.uint8)
    tensor = pixel_values_to_tensor(gray)
    assert tensor.shape == (3, 16, 32) and tensor.dtype == torch.float32
    expected = torch.from_numpy(gray).float().div(255.0)  # what torchvision's ToTensor computes
    for channel in tensor:
        assert torch.equal(channel, expected)


def test_rgb_is_channel_first():
    rgb = np.zeros((16, 32, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 255, 0, 51
    tensor = pixel_values_to_tensor(rgb)
    assert tensor.shape == (3, 16, 32)
    assert (
        tensor[0].eq(1.0).all() and tensor[1].eq(0.0).all() and torch.allclose(tensor[2], torch.tensor(0.2))
    )


def test_bad_shapes_and_dtypes_are_named():
    with pytest.raises(ValueError, match="shape"):
        pixel_values_to_tensor(np.zeros((2, 16, 32, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="dtype"):
        pixel_values_to_tensor(np.zeros((16, 32), dtype=np.int32))
