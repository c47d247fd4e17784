import pytest
import torch

from pixel.model import PIXELForPreTraining, PIXELModel, patchify, unpatchify


@pytest.fixture
def build(make_config):
    def build(**overrides) -> PIXELForPreTraining:
        torch.manual_seed(0)
        return PIXELForPreTraining(make_config(**overrides)).eval()

    return build


def test_forward_backward_shapes_and_gradients(build, make_batch):
    model = build()
    model.train()
    pixel_values, attention_mask = make_batch(num_patches=12)
    out = model(pixel_values, attention_mask)
    assert out.logits.shape == (2, 12, 768)
    assert out.mask.shape == out.ids_restore.shape == (2, 12)
    assert out.mask.sum(1).tolist() == [3.0, 3.0]  # L - int(L * 0.75)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for name, param in model.named_parameters():
        if param.requires_grad and not name.startswith("decoder.mask_token"):
            assert param.grad is not None and torch.isfinite(param.grad).all(), name
    assert model.vit.encoder.layer[0].attention.attention.query.weight.grad.abs().sum() > 0
    assert not model.vit.embeddings.position_embeddings.requires_grad
    assert not model.decoder.decoder_pos_embed.requires_grad


def test_given_noise_reproduces_masks_and_outputs(build, make_batch):
    model = build()
    pixel_values, attention_mask = make_batch()
    noise = torch.rand(2, 12, generator=torch.Generator().manual_seed(1))
    a = model(pixel_values, attention_mask, noise=noise)
    b = model(pixel_values, attention_mask, noise=noise)
    assert torch.equal(a.mask, b.mask) and torch.equal(a.ids_restore, b.ids_restore)
    torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=0)
    patch_mask = torch.zeros(2, 12)
    patch_mask[:, 2:5] = 1
    c = model(pixel_values, attention_mask, patch_mask=patch_mask, noise=noise)
    assert torch.equal(c.mask, patch_mask)  # exactly the span mask when it has len(L) - len_keep patches


def test_attention_mask_none_means_all_attended(build, make_batch):
    model = build()
    pixel_values, _ = make_batch()
    noise = torch.rand(2, 12)
    a = model(pixel_values, None, noise=noise)
    b = model(pixel_values, torch.ones(2, 12), noise=noise)
    torch.testing.assert_close(a.loss, b.loss, rtol=0, atol=0)


def test_hand_computed_loss_on_two_patches(build, make_batch):
    model = build(mask_ratio=0.5)
    with torch.no_grad():
        model.decoder.decoder_pred.weight.zero_()
        model.decoder.decoder_pred.bias.fill_(0.5)  # every logit = 0.5
    pixel_values = torch.ones(1, 3, 16, 32)  # patch 0 white
    pixel_values[0, :, :8, 16:] = 0.0  # patch 1: top half black -> mean 0.5, biased var 0.25
    patch_mask = torch.tensor([[0.0, 1.0]])  # remove patch 1, keep patch 0
    out = model(pixel_values, torch.ones(1, 2), patch_mask=patch_mask, noise=torch.zeros(1, 2))
    n = 768
    var = 0.25 * n / (n - 1)  # unbiased
    # normalised target has mean 0 and mean square (n-1)/n * var/(var+1e-6); (0.5 - t)^2 averages to 0.25 + that
    expected = 0.25 + (n - 1) / n * var / (var + 1e-6)
    assert out.mask.tolist() == [[0.0, 1.0]]
    assert abs(out.loss.item() - expected) < 1e-6
    # an unattended masked patch does not count: the white visible patch alone is never in the loss
    out = model(
        pixel_values,
        torch.tensor([[1.0, 1.0]]),
        patch_mask=torch.tensor([[1.0, 0.0]]),
        noise=torch.zeros(1, 2),
    )
    assert abs(out.loss.item() - 0.25) < 1e-6  # white patch normalises to zeros


def test_padding_does_not_change_text_outputs(build, make_batch):
    model = build()
    pixel_values, attention_mask = make_batch(batch_size=1, num_patches=12)
    attention_mask[0, 8:] = 0
    noise = torch.rand(1, 12)
    other = pixel_values.clone()
    other[..., 16 * 8 :] = torch.rand_like(other[..., 16 * 8 :])
    a = model(pixel_values, attention_mask, noise=noise)
    b = model(other, attention_mask, noise=noise)
    torch.testing.assert_close(a.logits[:, :8], b.logits[:, :8])
    torch.testing.assert_close(a.loss, b.loss)


def test_sdpa_and_explicit_attention_agree(build, make_batch):
    model = build()
    pixel_values, attention_mask = make_batch()
    noise = torch.rand(2, 12)
    a = model(pixel_values, attention_mask, noise=noise)
    b = model(pixel_values, attention_mask, noise=noise, output_attentions=True, output_hidden_states=True)
    torch.testing.assert_close(a.logits, b.logits, rtol=1e-5, atol=1e-5)
    assert len(b.attentions) == 2 + 1 and len(b.hidden_states) == 3 + 2
    probs = b.attentions[0]  # (B, H, 1 + K, 1 + K): padding keys get exactly zero weight
    kept = torch.gather(attention_mask, 1, torch.argsort(b.ids_restore, 1)[:, :9])  # (B, K) in encoder order
    encoder_mask = torch.cat([torch.ones(2, 1), kept], 1)
    assert probs.shape[-1] == 1 + 9 and (encoder_mask == 0).any()
    assert torch.all(probs * (1 - encoder_mask)[:, None, None, :] == 0)
    decoder_probs = b.attentions[-1]  # (B, H, 1 + L, 1 + L): mask tokens attended, padding not
    full_mask = torch.cat([torch.ones(2, 1), attention_mask], 1)
    assert torch.all(decoder_probs * (1 - full_mask)[:, None, None, :] == 0)


def test_variable_length_and_too_long_input(build, make_batch):
    model = build()
    for length in (1, 5, 16):
        pixel_values, _ = make_batch(batch_size=2, num_patches=length)
        out = model(pixel_values, torch.ones(2, length))
        assert out.logits.shape == (2, length, 768)
    with pytest.raises(ValueError, match="resize_model_embeddings"):
        model(*make_batch(num_patches=17))


def test_gradient_checkpointing_gives_the_same_gradients(build, make_batch):
    pixel_values, attention_mask = make_batch()
    noise = torch.rand(2, 12)
    grads = []
    for checkpointing in (False, True):
        model = build(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0).train()
        if checkpointing:
            model.activation_checkpointing_enable()
            assert model.vit.encoder.layer[0].gradient_checkpointing
        model(pixel_values, attention_mask, noise=noise).loss.backward()
        grads.append(model.vit.encoder.layer[0].intermediate.dense.weight.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_save_load_round_trip(tmp_path, build, make_batch):
    model = build()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded = PIXELForPreTraining.from_pretrained(tmp_path).eval()
    pixel_values, attention_mask = make_batch()
    noise = torch.rand(2, 12)
    torch.testing.assert_close(
        model(pixel_values, attention_mask, noise=noise).logits,
        loaded(pixel_values, attention_mask, noise=noise).logits,
        rtol=0,
        atol=0,
    )
    assert not loaded.vit.embeddings.position_embeddings.requires_grad


def test_patchify_is_channel_fastest_and_invertible():
    x = torch.arange(2 * 3 * 16 * 48, dtype=torch.float32).reshape(2, 3, 16, 48)
    patches = patchify(x, 16)
    assert patches.shape == (2, 3, 768)
    assert patches[0, 1, :3].tolist() == [
        x[0, c, 0, 16].item() for c in range(3)
    ]  # (row 0, col 0, c) of patch 1
    assert patches[0, 1, 3].item() == x[0, 0, 0, 17].item()  # next column
    assert torch.equal(unpatchify(patches, 16, 3), x)


def test_reconstruction_images_denormalise_each_patch(build, make_batch):
    model = build()
    pixel_values, attention_mask = make_batch()
    noise = torch.rand(2, 12)
    rec = model.reconstruct(pixel_values, attention_mask, noise=noise)
    assert rec.prediction.shape == rec.composite.shape == rec.mask.shape == pixel_values.shape
    assert rec.prediction.min() >= 0 and rec.prediction.max() <= 1
    visible = rec.mask == 0
    assert torch.equal(rec.composite[visible], pixel_values[visible])
    # de-normalisation inverts the loss target: a perfect prediction reconstructs the input
    target = model.patchify(pixel_values)
    mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
    with torch.no_grad():
        normed = (target - mean) / (var + 1e-6) ** 0.5
    torch.testing.assert_close(model.unpatchify(normed * (var + 1e-6) ** 0.5 + mean), pixel_values)


def test_embed_is_masked_mean_of_a_layer(make_config, make_batch):
    torch.manual_seed(0)
    model = PIXELModel(make_config()).eval()
    pixel_values, attention_mask = make_batch()
    out = model(pixel_values, attention_mask, output_hidden_states=True)
    emb = model.embed(pixel_values, attention_mask, layer=1)
    expected = out.hidden_states[1][1, 1:10].mean(0)  # example 1 attends 9 patches
    torch.testing.assert_close(emb[1], expected)
    torch.testing.assert_close(
        model.embed(pixel_values, attention_mask)[0], out.last_hidden_state[0, 1:].mean(0)
    )


def test_mask_ratio_zero_warns_that_the_loss_is_nan(build, make_batch):
    """PIXEL-M4's config default (0.0) masks nothing: a user building a pretraining model from defaults is told
    before the NaN, not after."""
    with pytest.warns(UserWarning, match="mask_ratio=0 removes no patch"):
        model = build(mask_ratio=0.0)
    pixel_values, attention_mask = make_batch()
    out = model(pixel_values, attention_mask, patch_mask=torch.ones(2, 12), noise=torch.rand(2, 12))
    assert out.mask.sum() == 0 and torch.isnan(out.loss)  # what the warning says
