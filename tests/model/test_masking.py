import numpy as np
import pytest

from pixel.model import SpanMaskingGenerator


def test_span_mask_is_a_pure_function_of_inputs_and_generator():
    gen = SpanMaskingGenerator()
    a = gen(300, 200, 75, np.random.default_rng(7))
    b = gen(300, 200, 75, np.random.default_rng(7))
    assert a.dtype == np.int32 and a.shape == (300,)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, gen(300, 200, 75, np.random.default_rng(8)))


def test_spans_respect_span_spacing():
    gen = SpanMaskingGenerator()
    rng = np.random.default_rng(0)
    for _ in range(50):
        mask, spans = gen.sample(256, 200, 64, rng)
        replay = np.zeros_like(mask)
        for left, length in spans:  # at acceptance, `length` free patches on each side of the new span
            assert 1 <= length <= 6
            assert not replay[max(0, left - length) : left].any()
            assert not replay[left + length : left + 2 * length].any()
            replay[left : left + length] = 1
        np.testing.assert_array_equal(replay, mask)


def _statistics(total, text, ratio, draws, seed):
    gen = SpanMaskingGenerator()
    rng = np.random.default_rng(seed)
    target = int(np.ceil(total * ratio))
    masked = in_text = 0
    lengths = []
    counts = []
    for _ in range(draws):
        mask, spans = gen.sample(total, text, target, rng)
        counts.append(mask.sum())
        masked += mask.sum()
        in_text += mask[:text].sum()
        lengths += [length for _, length in spans]
    hist = np.bincount(lengths, minlength=7)[1:] / len(lengths)
    return np.array(counts), in_text / masked, hist, target


def test_span_statistics_match_the_published_generator():
    # spec §2.7: 512 patches, 400 text, ratio 0.25 -> ~85% of masked patches in the text; P(len 1) ~ 0.28
    counts, in_text, hist, target = _statistics(512, 400, 0.25, 600, seed=0)
    assert (counts == target).mean() > 0.99 and counts.max() == target  # masked fraction = ratio
    assert abs(in_text - 0.85) < 0.02
    assert abs(hist[0] - 0.28) < 0.02
    # nominal .2/.2/.2/.2/.1/.1 skewed short by the max_add limit of the last rounds
    np.testing.assert_allclose(hist, [0.28, 0.22, 0.19, 0.165, 0.074, 0.066], atol=0.025)
    # with text covering 39% of the sequence, ~52% of masked patches fall in it
    _, in_text, _, _ = _statistics(512, 200, 0.25, 300, seed=1)
    assert abs(in_text - 0.52) < 0.03


def test_without_text_limit_spans_spread_uniformly():
    gen = SpanMaskingGenerator()
    rng = np.random.default_rng(2)
    masks = np.stack([gen(512, None, 128, rng) for _ in range(200)])
    assert abs(masks[:, :256].sum() / masks.sum() - 0.5) < 0.03


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="cumulative_span_weights"):
        SpanMaskingGenerator(max_span_length=3, cumulative_span_weights=(0.5, 1.0))
    with pytest.raises(ValueError, match="spacing"):
        SpanMaskingGenerator(spacing="wide")
    with pytest.raises(ValueError, match="cannot mask"):
        SpanMaskingGenerator()(10, 5, 11, np.random.default_rng(0))
