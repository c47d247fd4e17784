import numpy as np
import pytest
import torch

from pixel.model import mae_token_masking, pixel_grid_sincos


def sincos_1d_float64(dim: int, pos: float) -> np.ndarray:
    omega = 1.0 / 10000 ** (np.arange(dim // 2) / (dim / 2))
    return np.concatenate([np.sin(pos * omega), np.cos(pos * omega)])


def test_pixel_grid_sincos_layout_on_the_529_strip():
    table = pixel_grid_sincos(768, 529)
    assert table.shape == (530, 768) and table.dtype == np.float32
    assert np.all(table[0] == 0)  # CLS row
    for i in (0, 1, 22, 23, 24, 300, 528):
        row, col = divmod(i, 23)
        expected = np.concatenate([sincos_1d_float64(384, col), sincos_1d_float64(384, row)])
        np.testing.assert_allclose(table[1 + i], expected, atol=2e-5)
    # float32 math is not float64 math (the published table is float32): tiny but non-zero differences
    assert (
        0
        < np.abs(
            table[1:]
            - np.stack(
                [
                    np.concatenate([sincos_1d_float64(384, i % 23), sincos_1d_float64(384, i // 23)])
                    for i in range(529)
                ]
            )
        ).max()
        < 1e-5
    )


def test_pixel_grid_sincos_truncates_the_raster():
    full = pixel_grid_sincos(64, 529)
    np.testing.assert_array_equal(pixel_grid_sincos(64, 200, grid_size=23), full[:201])
    assert pixel_grid_sincos(64, 256).shape == (257, 64)  # 16x16 grid
    with pytest.raises(ValueError):
        pixel_grid_sincos(64, 30, grid_size=5)


def reference_masking(noise, mask_ratio, attention_mask, patch_mask):
    """Straightforward per-example restatement of spec §2.7."""
    noise = noise.clone()
    batch, length = noise.shape
    keep = int(length * (1 - mask_ratio))
    if patch_mask is not None:
        noise = patch_mask + noise / 100
    else:
        for b in range(batch):
            attended = [i for i in range(length) if attention_mask[b, i] == 1]
            top = max(attended, key=lambda i: noise[b, i].item())
            noise[b, top] = 100.0
    masks = torch.ones(batch, length)
    for b in range(batch):
        order = torch.argsort(noise[b])
        masks[b, order[:keep]] = 0
    return masks


@pytest.mark.parametrize("use_patch_mask", [False, True])
def test_mae_token_masking_matches_the_spec(use_patch_mask):
    gen = torch.Generator().manual_seed(3)
    noise = torch.rand(4, 20, generator=gen)
    attention_mask = torch.ones(4, 20)
    attention_mask[1, 10:] = 0
    attention_mask[2, 3:] = 0
    patch_mask = (torch.rand(4, 20, generator=gen) < 0.2).float() if use_patch_mask else None
    ids_keep, mask, ids_restore = mae_token_masking(noise, 0.25, attention_mask, patch_mask)
    assert ids_keep.shape == (4, 15) and mask.sum(1).tolist() == [5.0] * 4
    torch.testing.assert_close(
        mask, reference_masking(noise, 0.25, attention_mask, patch_mask), rtol=0, atol=0
    )
    # ids_restore undoes the shuffle: kept ids are exactly the unmasked positions
    for b in range(4):
        assert sorted(ids_keep[b].tolist()) == torch.where(mask[b] == 0)[0].tolist()
    assert torch.equal(torch.argsort(ids_restore, 1)[:, :15], ids_keep)


def test_random_masking_always_removes_an_attended_patch():
    noise = torch.tensor([[0.1, 0.2, 0.3, 0.99]])  # the highest noise is on padding
    attention_mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    _, mask, _ = mae_token_masking(noise, 0.25, attention_mask)
    assert mask.tolist() == [[0.0, 0.0, 1.0, 0.0]]
    assert noise[0, 3] == 0.99  # the caller's noise is not modified


def test_controlled_masking_removes_span_patches_first_then_tops_up():
    noise = torch.tensor([[0.5, 0.1, 0.9, 0.3, 0.2, 0.7, 0.6, 0.8]])
    patch_mask = torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    _, mask, _ = mae_token_masking(
        noise, 0.25, torch.ones(1, 8), patch_mask
    )  # removes 2: span + highest noise
    assert mask.tolist() == [[0, 1, 1, 0, 0, 0, 0, 0]]
