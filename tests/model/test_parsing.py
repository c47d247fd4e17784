import itertools
import math

import numpy as np
import pytest
import torch

from pixel.model import PIXELForBiaffineParsing, chu_liu_edmonds, mst_decode, pool_words


def reference_pool_words(patches: torch.Tensor, word_starts: torch.Tensor) -> torch.Tensor:
    """The published per-example loop (spec §2.5)."""
    batch, length, dim = patches.shape
    out = torch.zeros(batch, length, dim)
    for b in range(batch):
        starts = [s for s in word_starts[b].tolist() if s != -100]
        for w, (start, end) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
            if end <= 0:
                break
            out[b, w] = patches[b, start] if start == end else patches[b, start:end].mean(0)
    return out


def test_pool_words_matches_the_published_loop():
    gen = torch.Generator().manual_seed(0)
    patches = torch.randn(3, 10, 8, generator=gen)
    word_starts = torch.full((3, 11), -100)
    word_starts[0, :5] = torch.tensor([0, 2, 3, 3, 7])  # includes an empty word (start == end)
    word_starts[1, :2] = torch.tensor([0, 10])  # one word over the whole strip
    word_starts[2, :11] = torch.arange(11)  # one patch per word, EOS past the end
    torch.testing.assert_close(pool_words(patches, word_starts), reference_pool_words(patches, word_starts))
    assert torch.all(pool_words(patches, word_starts)[0, 4:] == 0)


def parser_batch(batch: int, make_batch):
    pixel_values, attention_mask = make_batch(batch_size=batch, num_patches=12)
    word_starts = torch.full((batch, 13), -100)
    word_starts[:, :4] = torch.tensor([0, 3, 5, 9])
    arcs = torch.full((batch, 12), -100)
    arcs[:, :3] = torch.tensor([0, 1, 1])
    rels = torch.full((batch, 12), -100)
    rels[:, :3] = torch.tensor([5, 2, 7])
    return pixel_values, attention_mask, word_starts, arcs, rels


def test_zero_initialised_parser_starts_at_uniform_loss(make_config, make_batch):
    torch.manual_seed(0)
    model = PIXELForBiaffineParsing(make_config(num_labels=38)).eval()
    assert model.biaffine_arcs.weight.shape == (1, 33, 32) and model.biaffine_rels.weight.shape == (
        38,
        33,
        33,
    )
    pixel_values, attention_mask, word_starts, arcs, rels = parser_batch(1, make_batch)
    out = model(pixel_values, attention_mask, word_starts=word_starts, arc_labels=arcs, rel_labels=rels)
    assert out.arc_logits.shape == (1, 12, 13)  # a batch of one keeps its batch dim
    assert math.isclose(out.loss.item(), math.log(13) + math.log(38), rel_tol=1e-6)


def test_parser_scores_are_the_published_biaffine(make_config, make_batch):
    torch.manual_seed(0)
    model = PIXELForBiaffineParsing(make_config(num_labels=8)).eval()
    torch.nn.init.normal_(model.biaffine_arcs.weight)
    torch.nn.init.normal_(model.biaffine_rels.weight)
    pixel_values, attention_mask, word_starts, arcs, rels = parser_batch(2, make_batch)
    out = model(pixel_values, attention_mask, word_starts=word_starts, arc_labels=arcs, rel_labels=rels)
    encoded = model.vit(pixel_values, attention_mask)
    deps = reference_pool_words(encoded.last_hidden_state[:, 1:], word_starts)
    heads = torch.cat([encoded.pooler_output[:, None], deps], 1)
    ones = torch.ones(2, 12, 1)
    arc = torch.einsum("bxi,ij,byj->bxy", torch.cat([deps, ones], -1), model.biaffine_arcs.weight[0], heads)
    torch.testing.assert_close(out.arc_logits, arc, rtol=1e-4, atol=1e-4)
    rel_w = model.biaffine_rels.weight
    heads1 = torch.cat([heads, torch.ones(2, 13, 1)], -1)
    rel = torch.einsum("bxi,oij,byj->bxyo", torch.cat([deps, ones], -1), rel_w, heads1)
    torch.testing.assert_close(out.rel_logits, rel, rtol=1e-4, atol=1e-4)
    scored = arcs != -100
    arc_loss = torch.nn.functional.cross_entropy(arc[scored], arcs[scored])
    gold_rel = rel[scored][torch.arange(int(scored.sum())), arcs[scored]]
    expected = arc_loss + torch.nn.functional.cross_entropy(gold_rel, rels[scored])
    torch.testing.assert_close(out.loss, expected, rtol=1e-4, atol=1e-4)


def brute_force_tree(scores: np.ndarray) -> tuple[float, tuple[int, ...]]:
    """Best single-root tree by enumeration; scores (n, n + 1) log-probabilities."""
    n = scores.shape[0]
    best = (-np.inf, ())
    for heads in itertools.product(range(n + 1), repeat=n):
        if sum(h == 0 for h in heads) != 1 or any(h == i + 1 for i, h in enumerate(heads)):
            continue
        if all(_reaches_root(heads, i) for i in range(n)):
            best = max(best, (sum(scores[i, h] for i, h in enumerate(heads)), heads))
    return best


def _reaches_root(heads, i):
    seen = set()
    node = i + 1
    while node != 0:
        if node in seen:
            return False
        seen.add(node)
        node = heads[node - 1]
    return True


@pytest.mark.parametrize("seed", range(12))
def test_mst_decode_finds_the_best_single_root_tree(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    scores = rng.normal(size=(n, n + 1)) * 3
    log_probs = scores - np.log(np.exp(scores).sum(1, keepdims=True))
    heads = mst_decode(scores)
    best_score, best_heads = brute_force_tree(log_probs)
    assert sum(h == 0 for h in heads) == 1 and all(_reaches_root(tuple(heads), i) for i in range(n))
    assert math.isclose(
        sum(log_probs[i, h] for i, h in enumerate(heads)), best_score, rel_tol=1e-9, abs_tol=1e-9
    )


def test_chu_liu_edmonds_breaks_cycles():
    scores = np.full((4, 4), -10.0)
    scores[1, 2], scores[2, 1] = 5.0, 5.0  # 1 <-> 2 cycle is locally best
    scores[3, 1] = 4.0
    scores[1, 0], scores[2, 0], scores[3, 0] = 1.0, 0.0, 0.0
    heads = chu_liu_edmonds(scores)
    assert heads.tolist() == [-1, 0, 1, 1]


def test_decode_argmax_and_mst(make_config):
    torch.manual_seed(0)
    arc = torch.randn(2, 6, 7)
    rel = torch.randn(2, 6, 7, 4)
    for mode in ("argmax", "mst"):
        model = PIXELForBiaffineParsing(make_config(num_labels=4, parser_decoding=mode))
        heads, rels = model.decode(arc, rel, [4, 6])
        assert heads.shape == rels.shape == (2, 6) and torch.all(heads[0, 4:] == -100)
        if mode == "argmax":
            assert torch.equal(heads[1], arc[1].argmax(-1))
        else:
            assert (heads[0, :4] == 0).sum() == 1 and heads[0, :4].max() <= 4
        assert rels[1, 0] == rel[1, 0, heads[1, 0]].argmax()


def test_parser_from_pretraining_checkpoint_starts_zero_initialised(tmp_path, make_config, make_batch):
    from pixel.model import PIXELForPreTraining

    torch.manual_seed(0)
    PIXELForPreTraining(make_config()).save_pretrained(tmp_path)
    model = PIXELForBiaffineParsing.from_pretrained(tmp_path, num_labels=38).eval()
    assert torch.all(model.biaffine_arcs.weight == 0) and torch.all(model.biaffine_rels.weight == 0)
    pixel_values, attention_mask, word_starts, arcs, rels = parser_batch(2, make_batch)
    out = model(pixel_values, attention_mask, word_starts=word_starts, arc_labels=arcs, rel_labels=rels)
    assert math.isclose(out.loss.item(), math.log(13) + math.log(38), rel_tol=1e-6)
