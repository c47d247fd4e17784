from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixel.analysis.embeddings import load_model, load_processor
from pixel.analysis.word_probing import embed_words, run_upos_probe

SENTENCES = [
    [("The", "DET"), ("cat", "NOUN"), ("sleeps", "VERB"), (".", "PUNCT")],
    [("A", "DET"), ("dog", "NOUN"), ("barks", "VERB"), ("loudly", "ADV"), (".", "PUNCT")],
    [("Birds", "NOUN"), ("sing", "VERB"), ("!", "PUNCT")],
    [("The", "DET"), ("old", "ADJ"), ("man", "NOUN"), ("walks", "VERB"), (".", "PUNCT")],
]


def write_conllu(path: Path, sentences: list[list[tuple[str, str]]]) -> None:
    blocks = []
    for n, words in enumerate(sentences):
        lines = [f"# sent_id = s{n}", "# text = " + " ".join(w for w, _ in words)]
        for i, (form, upos) in enumerate(words, start=1):
            head, rel = (0, "root") if i == 1 else (1, "dep")
            lines.append(f"{i}\t{form}\t_\t{upos}\t_\t_\t{head}\t{rel}\t_\t_")
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")


def test_word_vectors_are_patch_means(model_dir):
    model, processor = load_model(model_dir), load_processor(model_dir)
    words = [[w for w, _ in s] for s in SENTENCES]
    run = embed_words(model, processor, words, batch_size=3, progress=False)
    assert run.kept == [4, 5, 3, 5]
    assert run.features.shape == (3, 17, 32) and run.features.dtype == np.float32
    # the second word of the first sentence, by hand from the renderer's word_starts and the model's hidden states
    encoding = processor.renderer(words[0])
    inputs = processor(words[0], is_split_into_words=True)
    hidden = model(**inputs, output_hidden_states=True).hidden_states
    start, end = encoding.word_starts[1], encoding.word_starts[2]
    for layer in range(3):
        expected = hidden[layer][0, 1 + start : 1 + end].mean(0).detach().numpy()
        np.testing.assert_allclose(run.features[layer, 1], expected, rtol=1e-4, atol=1e-5)


def test_truncated_words_are_left_out(model_dir):
    model = load_model(model_dir)
    run = embed_words(model, load_processor(model_dir, max_seq_length=6), [["many"] * 10], progress=False)
    assert 0 < run.kept[0] < 10
    assert run.features.shape[1] == run.kept[0]


def test_upos_probe_on_a_tiny_treebank(model_dir, tmp_path):
    treebank = tmp_path / "UD_Toy-Tiny"
    treebank.mkdir()
    write_conllu(treebank / "toy_tiny-ud-train.conllu", SENTENCES * 3)
    write_conllu(treebank / "toy_tiny-ud-test.conllu", SENTENCES[:2])
    result = run_upos_probe(
        load_model(model_dir), load_processor(model_dir), [treebank], layers=[0, 2], progress=False
    )
    assert result.sizes["UD_Toy-Tiny"] == (51, 9)
    # NOUN, VERB and PUNCT tie at 12 of the 51 training words; each is 2 of the 9 test words
    assert result.baseline["UD_Toy-Tiny"] == pytest.approx(2 / 9)
    accuracy = result.accuracy["UD_Toy-Tiny"]
    assert accuracy.shape == (2,) and np.all((accuracy >= 0) & (accuracy <= 1))
    # the test words all occur in training with the same tag: layer 0 (patch embeddings) identifies them
    assert accuracy[0] > result.baseline["UD_Toy-Tiny"]
    assert result.tsv().startswith("treebank\ttrain\ttest\tmajority\tlayer_0\tlayer_2\n")


def test_missing_test_file_is_named(model_dir, tmp_path):
    treebank = tmp_path / "UD_Empty"
    treebank.mkdir()
    with pytest.raises(FileNotFoundError, match="UD_Empty needs"):
        run_upos_probe(load_model(model_dir), load_processor(model_dir), [treebank], progress=False)
