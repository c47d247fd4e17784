import math

import pytest
import torch

from pixel.model import (
    PIXELForBiaffineParsing,
    PIXELForPreTraining,
    PIXELForQuestionAnswering,
    PIXELForSequenceClassification,
    PIXELForTokenClassification,
    PIXELModel,
)

L = 12


def head_inputs(name: str, batch: int, make_batch) -> dict:
    pixel_values, attention_mask = make_batch(batch_size=batch, num_patches=L)
    gen = torch.Generator().manual_seed(5)
    inputs = {"pixel_values": pixel_values, "attention_mask": attention_mask}
    if name.startswith("seq"):
        inputs["labels"] = torch.randint(0, 3, (batch,), generator=gen)
    elif name == "token":
        labels = torch.full((batch, L), -100)
        labels[:, [0, 2, 5]] = torch.randint(0, 3, (batch, 3), generator=gen)
        inputs["labels"] = labels
    elif name.startswith("parser"):
        word_starts = torch.full((batch, L + 1), -100)
        word_starts[:, :5] = torch.tensor([0, 2, 3, 6, 8])  # 4 words, EOS at patch 8
        arcs = torch.full((batch, L), -100)
        arcs[:, :4] = torch.tensor([2, 0, 2, 3])
        rels = torch.full((batch, L), -100)
        rels[:, :4] = torch.randint(0, 3, (batch, 4), generator=gen)
        inputs.update(word_starts=word_starts, arc_labels=arcs, rel_labels=rels)
    elif name == "qa":
        inputs.update(start_positions=torch.tensor([1] * batch), end_positions=torch.tensor([3] * batch))
    return inputs


HEADS = {
    "seq-mean": (PIXELForSequenceClassification, {"pooling_mode": "mean"}),
    "seq-max": (PIXELForSequenceClassification, {"pooling_mode": "max"}),
    "seq-cls": (PIXELForSequenceClassification, {"pooling_mode": "cls"}),
    "seq-pma2": (PIXELForSequenceClassification, {"pooling_mode": "pma2"}),
    "seq-mean-noln": (PIXELForSequenceClassification, {"pooling_mode": "mean", "add_layer_norm": False}),
    "token": (PIXELForTokenClassification, {}),
    "parser": (PIXELForBiaffineParsing, {}),
    "parser-mlp": (PIXELForBiaffineParsing, {"biaffine_mlp": True, "arc_mlp_size": 24, "rel_mlp_size": 16}),
    "qa": (PIXELForQuestionAnswering, {}),
}


def build(name, make_config, **extra):
    cls, fields = HEADS[name]
    torch.manual_seed(0)
    return cls(make_config(num_labels=3, **fields, **extra))


@pytest.mark.parametrize("name", list(HEADS))
@pytest.mark.parametrize("batch", [1, 2])
def test_forward_backward(name, batch, make_config, make_batch):
    model = build(name, make_config).train()
    if name.startswith("parser"):  # zero-initialised scorers would block gradients to the encoder at step 0
        for module in (model.biaffine_arcs, model.biaffine_rels):
            torch.nn.init.normal_(module.weight, std=0.1)
    out = model(**head_inputs(name, batch, make_batch))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    if name.startswith("seq"):
        assert out.logits.shape == (batch, 3)
    elif name == "token":
        assert out.logits.shape == (batch, L, 3)
    elif name.startswith("parser"):
        assert out.arc_logits.shape == (batch, L, L + 1) and out.rel_logits.shape == (batch, L, L + 1, 3)
    else:
        assert out.start_logits.shape == out.end_logits.shape == (batch, L + 1)
    out.loss.backward()
    grad = model.vit.encoder.layer[0].attention.attention.query.weight.grad
    assert grad is not None and grad.abs().sum() > 0 and torch.isfinite(grad).all()
    assert model.vit.embeddings.position_embeddings.requires_grad  # trainable when finetuning, as published


@pytest.mark.parametrize("name", list(HEADS))
def test_loads_pretraining_checkpoint_and_round_trips(name, tmp_path, make_config, make_batch):
    torch.manual_seed(0)
    PIXELForPreTraining(make_config()).save_pretrained(tmp_path / "pretrained")
    cls, fields = HEADS[name]
    model, info = cls.from_pretrained(
        tmp_path / "pretrained", num_labels=3, **fields, output_loading_info=True
    )
    new = set(info["missing_keys"])
    expected_new = {k for k in model.state_dict() if not k.startswith("vit.")} | {
        k for k in model.state_dict() if k.startswith("vit.pooler.")
    }
    assert new == expected_new and not info["unexpected_keys"] and not info["mismatched_keys"]
    for key, value in fields.items():
        assert getattr(model.config, key) == value
    model.eval()
    inputs = head_inputs(name, 2, make_batch)
    model.save_pretrained(tmp_path / "finetuned")
    loaded = cls.from_pretrained(tmp_path / "finetuned").eval()
    assert loaded.config.to_diff_dict() | {"_name_or_path": ""} == model.config.to_diff_dict() | {
        "_name_or_path": ""
    }
    a, b = model(**inputs), loaded(**inputs)
    torch.testing.assert_close(a.loss, b.loss, rtol=0, atol=0)


def test_pooling_mode_from_pretrained_kwarg_is_recorded(tmp_path, make_config):
    PIXELForSequenceClassification(make_config(num_labels=2)).save_pretrained(tmp_path)
    model = PIXELForSequenceClassification.from_pretrained(tmp_path, pooling_mode="pma4")
    assert model.config.pooling_mode == "pma4" and model.pooler.pooling.pooler.mab.num_heads == 4
    with pytest.raises(ValueError, match="pooling_mode"):
        PIXELForSequenceClassification(make_config(pooling_mode="median"))


def test_pooling_modes_follow_the_published_math(make_config, make_batch):
    pixel_values, attention_mask = make_batch(num_patches=L)
    for mode in ("mean", "max"):
        model = build(f"seq-{mode}", make_config).eval()
        encoded = model.vit(pixel_values, attention_mask).last_hidden_state[:, 1:]
        hidden = model.pooler.dropout(model.pooler.ln(model.pooler.activation(model.pooler.linear(encoded))))
        n = int(attention_mask[1].sum())
        pooled = hidden[1, :n].mean(0) if mode == "mean" else hidden[1, :n].amax(0)
        torch.testing.assert_close(model(pixel_values, attention_mask).logits[1], model.classifier(pooled))
    model = build("seq-cls", make_config).eval()
    cls_pooled = torch.tanh(
        model.vit.pooler.dense(model.vit(pixel_values, attention_mask).last_hidden_state[:, 0])
    )
    torch.testing.assert_close(model(pixel_values, attention_mask).logits, model.classifier(cls_pooled))


def test_pma_head_skips_linear_and_gelu_as_published(make_config, make_batch):
    """The published head feeds PMA the encoder output through LayerNorm and dropout only (no Linear, no GELU)."""
    pixel_values, attention_mask = make_batch(num_patches=L)
    model = build("seq-pma2", make_config).eval()
    encoded = model.vit(pixel_values, attention_mask).last_hidden_state[:, 1:]
    pooled = model.pooler.pooling(model.pooler.ln(encoded), attention_mask)
    torch.testing.assert_close(model(pixel_values, attention_mask).logits, model.classifier(pooled))


@pytest.mark.parametrize("mode", ["mean", "pma2"])
def test_pooler_always_owns_its_layer_norm(tmp_path, make_config, make_batch, mode):
    """`pooler.ln.*` exists without `add_layer_norm` too (published checkpoints carry it), and is then unused."""
    model = build(f"seq-{mode}", make_config, add_layer_norm=False).eval()
    assert {"pooler.ln.weight", "pooler.ln.bias"} <= set(model.state_dict())
    model.save_pretrained(tmp_path)
    _, info = PIXELForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    pixel_values, attention_mask = make_batch(num_patches=L)
    before = model(pixel_values, attention_mask).logits
    with torch.no_grad():
        model.pooler.ln.weight.fill_(3.0)
    torch.testing.assert_close(model(pixel_values, attention_mask).logits, before, rtol=0, atol=0)


def test_pma_masks_keys_not_values(make_config):
    model = build("seq-pma2", make_config).eval()
    pma = model.pooler.pooling.pooler
    x = torch.randn(1, 5, 32)
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0]])
    q = pma.mab.fc_q(pma.S)
    k = pma.mab.fc_k(x) * mask[..., None]
    v = pma.mab.fc_v(x)
    outs = []
    for h in range(2):
        sl = slice(16 * h, 16 * (h + 1))
        attn = (q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(32)).softmax(-1)
        outs.append(q[..., sl] + attn @ v[..., sl])
    o = torch.cat(outs, -1)
    torch.testing.assert_close(pma(x, mask), o + torch.relu(pma.mab.fc_o(o)))


@pytest.mark.parametrize(
    ("num_labels", "labels", "problem"),
    [
        (1, torch.tensor([0.5, -1.0]), "regression"),
        (3, torch.tensor([0, 2]), "single_label_classification"),
        (3, torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), "multi_label_classification"),
    ],
)
def test_sequence_losses(num_labels, labels, problem, make_config, make_batch):
    torch.manual_seed(0)
    model = PIXELForSequenceClassification(make_config(num_labels=num_labels)).eval()
    pixel_values, attention_mask = make_batch()
    out = model(pixel_values, attention_mask, labels=labels)
    assert model.config.problem_type == problem
    if problem == "regression":
        expected = torch.nn.functional.mse_loss(out.logits.squeeze(-1), labels)
    elif problem == "single_label_classification":
        expected = torch.nn.functional.cross_entropy(out.logits, labels)
    else:
        expected = torch.nn.functional.binary_cross_entropy_with_logits(out.logits, labels)
    torch.testing.assert_close(out.loss, expected)


def test_token_loss_ignores_unlabelled_patches(make_config, make_batch):
    model = build("token", make_config).eval()
    inputs = head_inputs("token", 2, make_batch)
    out = model(**inputs)
    labels = inputs["labels"]
    keep = labels != -100
    torch.testing.assert_close(out.loss, torch.nn.functional.cross_entropy(out.logits[keep], labels[keep]))


def test_qa_puts_cls_last(make_config, make_batch):
    model = build("qa", make_config).eval()
    pixel_values, attention_mask = make_batch(num_patches=L)
    out = model(pixel_values, attention_mask)
    hidden = model.vit(pixel_values, attention_mask).last_hidden_state
    torch.testing.assert_close(out.start_logits[:, L], model.qa_outputs(hidden[:, 0])[:, 0])
    torch.testing.assert_close(out.end_logits[:, 0], model.qa_outputs(hidden[:, 1])[:, 1])


def test_encoder_only_model_loads_pretraining_checkpoint(tmp_path, make_config, make_batch):
    torch.manual_seed(0)
    pretrained = PIXELForPreTraining(make_config()).eval()
    pretrained.save_pretrained(tmp_path)
    model, info = PIXELModel.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    pixel_values, attention_mask = make_batch()
    # without masking the shared encoder equals the pretraining encoder run with mask_ratio 0 (a permutation)
    a = model.eval()(pixel_values, attention_mask).last_hidden_state
    b = pretrained.vit(pixel_values, attention_mask, mask_ratio=0.0, noise=torch.rand(2, 12))
    unshuffled = torch.gather(b.last_hidden_state[:, 1:], 1, b.ids_restore[..., None].expand(-1, -1, 32))
    torch.testing.assert_close(a[:, 1:], unshuffled, rtol=1e-5, atol=1e-5)
