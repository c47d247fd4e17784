"""PIXELProcessor: text -> padded model inputs, save / load beside a model, AutoProcessor."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import tiny_mae_config
from transformers import AutoModel, AutoModelForPreTraining, AutoProcessor, BatchFeature

from pixel.data.processor import (
    PROCESSOR_NAME,
    EncodingCollator,
    PIXELProcessor,
    collate_encodings,
    padded_length,
)
from pixel.data.transforms import pixel_values_to_tensor
from pixel.model import PIXELConfig, PIXELForPreTraining, PIXELModel
from pixel.render import TEXT_RENDERER_NAME, Encoding, PangoCairoTextRenderer, get_attention_mask

L = 64  # a short canvas keeps rendering cheap; every rule is the same at 529
TEXTS = ["My cat loves oatmeal .", "Hi", "Привет, мир! नमस्ते दुनिया"]
PAIRS = [("Who loves oatmeal ?", "My cat loves oatmeal ."), ("a", "b")]
WORDS = [["My", "cat", "loves", "oatmeal", "."], ["Hi"]]


@pytest.fixture(scope="module")
def processor() -> PIXELProcessor:
    return PIXELProcessor(PangoCairoTextRenderer(max_seq_length=L))


@pytest.fixture(scope="module")
def rgb_processor() -> PIXELProcessor:
    return PIXELProcessor(PangoCairoTextRenderer(max_seq_length=L, rgb=True))


@pytest.fixture(scope="module")
def continuous_processor() -> PIXELProcessor:
    return PIXELProcessor(PangoCairoTextRenderer(rendering_strategy="continuous", max_seq_length=L))


def tiny_config(**overrides) -> PIXELConfig:
    return tiny_mae_config(**({"image_size": (16, 16 * L)} | overrides))


def manual(
    renderer: PangoCairoTextRenderer, examples: list, length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The README's manual path: renderer + pixel_values_to_tensor + get_attention_mask, cropped and stacked."""
    encodings = [renderer(example) for example in examples]
    pixels = torch.stack([pixel_values_to_tensor(e.pixel_values)[..., : 16 * length] for e in encodings])
    mask = torch.from_numpy(np.stack([get_attention_mask(e.num_text_patches, length) for e in encodings]))
    return pixels, mask


# --- inputs, shapes, padding ---------------------------------------------------------------------------------


def test_strings_pad_to_the_longest_text_plus_eos(processor):
    batch = processor(TEXTS, return_tensors="pt")
    assert isinstance(batch, BatchFeature) and set(batch) == {"pixel_values", "attention_mask"}
    longest = max(processor.renderer(t).num_text_patches for t in TEXTS) + 1
    assert batch["pixel_values"].shape == (3, 3, 16, 16 * longest)
    assert batch["pixel_values"].dtype == torch.float32
    assert batch["attention_mask"].shape == (3, longest) and batch["attention_mask"].dtype == torch.float32
    assert batch["attention_mask"][0].sum() == processor.renderer(TEXTS[0]).num_text_patches + 1


def test_a_single_example_is_a_batch_of_one(processor):
    for single, batched in (
        (TEXTS[0], [TEXTS[0]]),
        (PAIRS[0], [PAIRS[0]]),
        (WORDS[0], [WORDS[0]]),
    ):
        kwargs = {"is_split_into_words": True} if isinstance(single, list) else {}
        one = processor(single, **kwargs)
        assert one["pixel_values"].shape[0] == 1
        assert torch.equal(one["pixel_values"], processor(batched)["pixel_values"])


def test_pairs_as_tuples_and_as_text_pair_agree(processor):
    as_tuples = processor(PAIRS)
    as_lists = processor([a for a, _ in PAIRS], text_pair=[b for _, b in PAIRS])
    assert all(torch.equal(as_tuples[k], as_lists[k]) for k in as_tuples)
    length = max(processor.renderer(p).num_text_patches for p in PAIRS) + 1
    assert as_tuples["pixel_values"].shape == (2, 3, 16, 16 * length)
    with pytest.raises(ValueError, match="text_pair has 1"):
        processor(["a", "b"], text_pair=["c"])
    with pytest.raises(TypeError, match="with text_pair, text must be a str or a list of str, not a list"):
        processor([["word", "list"]], text_pair=["c"])  # a word list cannot be text_a


def test_word_lists_give_padded_word_starts(processor):
    batch = processor(WORDS, return_word_starts=True)
    length = batch["attention_mask"].shape[1]
    assert batch["word_starts"].shape == (2, length + 1) and batch["word_starts"].dtype == torch.long
    for row, words in zip(batch["word_starts"], WORDS, strict=True):
        starts = processor.renderer(words).word_starts
        assert row[: len(starts)].tolist() == starts  # n_words + 1 entries, the last the EOS patch
        assert (row[len(starts) :] == -100).all()


@pytest.mark.parametrize("padding", ["longest", True, "max_length"])
def test_padding_modes(processor, padding):
    batch = processor(TEXTS[:2], padding=padding)
    longest = max(processor.renderer(t).num_text_patches for t in TEXTS[:2]) + 1
    assert batch["attention_mask"].shape[1] == (L if padding == "max_length" else longest)


def test_pad_to_multiple_of_rounds_up_but_never_past_the_canvas(processor):
    short = processor(["Hi"], pad_to_multiple_of=8)
    assert short["attention_mask"].shape[1] == 8
    assert padded_length([13], L, "longest", 8) == 16
    assert padded_length([13], L, "longest", 48) == 48
    assert padded_length([60], L, "longest", 48) == L  # 96 would exceed the 64-patch canvas
    assert padded_length([3], L, "max_length", 48) == L
    for bad in (0, -8, 2.0, True):
        with pytest.raises(ValueError, match="pad_to_multiple_of"):
            padded_length([3], L, "longest", bad)


def test_bad_arguments_are_named(processor):
    with pytest.raises(ValueError, match="padding"):
        processor("a", padding="do_not_pad")
    with pytest.raises(ValueError, match="return_tensors"):
        processor("a", return_tensors="tf")
    with pytest.raises(ValueError, match="empty"):
        processor([])
    with pytest.raises(ValueError, match="overflow"):
        processor(("a", "b"), return_overflowing_patches=True)
    with pytest.raises(TypeError):
        processor(3)
    with pytest.raises(TypeError):
        processor("a", not_a_render_option=1)  # the renderer names unknown keywords


# --- equality with the manual path ----------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["longest", "max_length"])
@pytest.mark.parametrize("rgb", [False, True])
def test_equal_to_the_manual_path_bit_for_bit(processor, rgb_processor, padding, rgb):
    proc = rgb_processor if rgb else processor
    for examples in (TEXTS, PAIRS, WORDS):
        batch = proc(examples, padding=padding)
        pixels, mask = manual(proc.renderer, examples, batch["attention_mask"].shape[1])
        assert torch.equal(batch["pixel_values"], pixels)
        assert torch.equal(batch["attention_mask"], mask)
    full_pixels, full_mask = manual(proc.renderer, TEXTS, L)  # README: full strip, get_attention_mask(n, L)
    batch = proc(TEXTS, padding="max_length")
    assert torch.equal(batch["pixel_values"], full_pixels) and torch.equal(batch["attention_mask"], full_mask)


def test_uint8_output_is_the_rendered_bytes(processor, rgb_processor):
    for proc in (processor, rgb_processor):
        as_float = proc(TEXTS)["pixel_values"]
        as_uint8 = proc(TEXTS, return_uint8=True)["pixel_values"]
        assert as_uint8.dtype == torch.uint8 and as_uint8.shape == as_float.shape
        assert torch.equal(as_uint8.float() / 255, as_float)  # what the training loop does on the device


def test_numpy_output(processor):
    batch = processor(TEXTS, return_tensors="np", return_word_starts=True)
    assert isinstance(batch["pixel_values"], np.ndarray) and batch["pixel_values"].dtype == np.float32
    assert batch["word_starts"].dtype == np.int64
    assert np.array_equal(batch["pixel_values"], processor(TEXTS)["pixel_values"].numpy())


def test_offset_mapping_for_continuous(continuous_processor, processor):
    renderer = continuous_processor.renderer
    examples = ["Hello world", ("Who?", "Hello world, again")]
    batch = continuous_processor(examples, return_offset_mapping=True)
    length = batch["attention_mask"].shape[1]
    assert batch["offset_mapping"].shape == (2, length, 2) and batch["offset_mapping"].dtype == torch.long
    for row, example in zip(batch["offset_mapping"], examples, strict=True):
        expected = renderer(example, return_offset_mapping=True).offset_mapping[:length]
        assert [tuple(span) for span in row.tolist()] == expected
    pixels, mask = manual(renderer, examples, length)
    assert torch.equal(batch["pixel_values"], pixels) and torch.equal(batch["attention_mask"], mask)
    with pytest.raises(ValueError, match="continuous"):
        processor("Hello", return_offset_mapping=True)
    with pytest.raises(ValueError, match="word_starts"):
        continuous_processor("Hello", return_word_starts=True)  # continuous str input has no word starts


def test_collate_white_pads_a_narrow_strip():
    narrow = Encoding(pixel_values=np.zeros((16, 16 * 3), np.uint8), num_text_patches=5)  # 3 patches drawn
    batch = collate_encodings([narrow], max_seq_length=8)
    assert batch["pixel_values"].shape == (1, 3, 16, 16 * 6)
    assert batch["pixel_values"][..., 48:].eq(1.0).all() and batch["pixel_values"][..., :48].eq(0.0).all()


def test_encoding_collator_pads_to_the_canvas_and_stacks_the_labels(processor):
    """The task datasets' collator: rendered items in, the processor's `max_length` batch + stacked labels out."""
    items = [
        {"encoding": processor.renderer(words), "labels": torch.full((L,), i), "score": torch.tensor(0.5 * i)}
        for i, words in enumerate(WORDS)
    ]
    collate = pickle.loads(pickle.dumps(EncodingCollator(L, return_word_starts=True)))  # DataLoader workers
    batch = collate(items)
    expected = processor(WORDS, padding="max_length", return_word_starts=True)
    assert list(batch) == ["pixel_values", "attention_mask", "word_starts", "labels", "score"]
    assert all(torch.equal(batch[k], expected[k]) for k in expected)
    assert batch["labels"].shape == (2, L) and batch["labels"][1].eq(1).all()
    assert batch["score"].tolist() == [0.0, 0.5]
    assert "word_starts" not in EncodingCollator(L)(items)


def test_processor_pickles(processor):
    clone = pickle.loads(pickle.dumps(processor))  # DataLoader workers
    assert torch.equal(clone(TEXTS)["pixel_values"], processor(TEXTS)["pixel_values"])


# --- saving and loading ---------------------------------------------------------------------------------------


def test_save_and_load_round_trip(rgb_processor, tmp_path):
    written = rgb_processor.save_pretrained(tmp_path)
    assert {Path(p).name for p in written} >= {PROCESSOR_NAME, TEXT_RENDERER_NAME}
    assert all(Path(p).is_file() for p in written)
    assert json.loads((tmp_path / PROCESSOR_NAME).read_text()) == {"processor_class": "PIXELProcessor"}
    loaded = PIXELProcessor.from_pretrained(tmp_path)
    assert loaded.renderer.to_dict() == rgb_processor.renderer.to_dict()
    for examples in (TEXTS, PAIRS, WORDS):
        a, b = loaded(examples), rgb_processor(examples)
        assert all(torch.equal(a[k], b[k]) for k in a)
    shorter = PIXELProcessor.from_pretrained(tmp_path, max_seq_length=32)  # renderer overrides
    assert shorter.max_seq_length == 32
    assert shorter(TEXTS[0], padding="max_length")["attention_mask"].shape == (1, 32)


def test_a_processor_config_for_another_class_is_refused(processor, tmp_path):
    processor.save_pretrained(tmp_path)
    (tmp_path / PROCESSOR_NAME).write_text(json.dumps({"processor_class": "WhisperProcessor"}))
    with pytest.raises(ValueError, match="WhisperProcessor"):
        PIXELProcessor.from_pretrained(tmp_path)


def save_model_folder(folder: Path, model_class=PIXELModel, *, with_processor: bool, renderer=None) -> None:
    torch.manual_seed(0)
    model_class(tiny_config()).eval().save_pretrained(folder)
    renderer = renderer or PangoCairoTextRenderer(max_seq_length=L)
    if with_processor:
        PIXELProcessor(renderer).save_pretrained(folder)
    else:
        renderer.save_pretrained(folder)  # what released checkpoints and older runs hold


@pytest.mark.parametrize("model_class", [PIXELModel, PIXELForPreTraining])
def test_done_when_auto_processor_and_auto_model_run_on_a_saved_folder(tmp_path, model_class):
    save_model_folder(tmp_path, model_class, with_processor=True)
    auto_model = AutoModel if model_class is PIXELModel else AutoModelForPreTraining
    processor = AutoProcessor.from_pretrained(tmp_path)
    model = auto_model.from_pretrained(tmp_path)
    assert type(processor) is PIXELProcessor and type(model) is model_class
    inputs = processor(["a", "b"], return_tensors="pt")
    with torch.no_grad():
        out = model(**inputs)
    if model_class is PIXELModel:
        assert out.last_hidden_state.shape == (2, inputs["attention_mask"].shape[1] + 1, 32)
    else:
        assert torch.isfinite(out.loss)
    with torch.no_grad():
        full = model(**processor(TEXTS, padding="max_length"))  # the whole position table
    assert torch.isfinite(full.logits if hasattr(full, "logits") else full.last_hidden_state).all()


@pytest.mark.parametrize("module", ["pixel", "pixel.model"])
def test_done_when_in_a_fresh_interpreter(tmp_path, module):
    """The user's snippet, nothing imported before it. `import pixel` after transformers registers the Auto classes
    (before it, `import pixel` stays lazy and `import pixel.model` registers them)."""
    save_model_folder(tmp_path, with_processor=True)
    code = (
        "import sys\n"
        "from transformers import AutoProcessor, AutoModel\n"
        f"import {module}\n"
        "d = sys.argv[1]\n"
        "out = AutoModel.from_pretrained(d)(**AutoProcessor.from_pretrained(d)(['a', 'b'], return_tensors='pt'))\n"
        "print(tuple(out.last_hidden_state.shape))\n"
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith(", 32)")


def test_import_pixel_alone_loads_no_torch():
    code = "import sys, pixel, pixel.render; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr[-2000:]


def test_folder_without_processor_config_loads(tmp_path):
    """Released checkpoints hold only the renderer: `PIXELProcessor` loads them, and so does `AutoProcessor` when
    config.json says model_type "pixel" (it falls back to the processor registered for the config class)."""
    save_model_folder(tmp_path, with_processor=False)
    assert not (tmp_path / PROCESSOR_NAME).exists()
    direct = PIXELProcessor.from_pretrained(tmp_path)
    auto = AutoProcessor.from_pretrained(tmp_path)
    assert type(auto) is PIXELProcessor
    assert torch.equal(direct(TEXTS)["pixel_values"], auto(TEXTS)["pixel_values"])


def test_vit_mae_folder_needs_a_processor_config_for_auto_processor(tmp_path):
    """A legacy `model_type: "vit_mae"` config resolves to transformers' ViT-MAE under `AutoConfig`, so only a
    saved `processor_config.json` lets `AutoProcessor` find PIXELProcessor; `PIXELProcessor` loads either way."""
    save_model_folder(tmp_path, with_processor=False)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(config | {"model_type": "vit_mae"}))
    assert type(PIXELProcessor.from_pretrained(tmp_path)) is PIXELProcessor
    with pytest.raises((ValueError, OSError)):
        AutoProcessor.from_pretrained(tmp_path)
    PIXELProcessor.from_pretrained(tmp_path).save_pretrained(tmp_path)
    assert type(AutoProcessor.from_pretrained(tmp_path)) is PIXELProcessor


def test_released_checkpoint_by_hub_id(pixel_m4_hub):
    cache, model = pixel_m4_hub
    for subfolder in ("", "last-checkpoint"):
        processor = PIXELProcessor.from_pretrained(
            "Team-PIXEL/pixel-m4", cache_dir=cache, subfolder=subfolder
        )
        auto = AutoProcessor.from_pretrained("Team-PIXEL/pixel-m4", cache_dir=cache, subfolder=subfolder)
        assert type(auto) is PIXELProcessor and processor.renderer.rgb and processor.max_seq_length == 529
        inputs = auto(["a", "b"])
        with torch.no_grad():
            out = model(**inputs)  # (the fixture's mask_ratio is 0.0: no masked patch, so no loss to check)
        assert out.logits.shape[:2] == inputs["attention_mask"].shape and torch.isfinite(out.logits).all()
