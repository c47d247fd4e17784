from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixel.analysis.embeddings import load_model
from pixel.analysis.retrieval import chance_accuracy, layer_accuracies, run_retrieval, top1_accuracy
from pixel.analysis.sib import available_languages, read_parallel


def test_top1_accuracy_by_hand():
    keys = np.eye(4) + 0.1
    assert top1_accuracy(keys, keys, center=False) == 1.0
    assert top1_accuracy(keys[[1, 0, 2, 3]], keys, center=False) == 0.5  # rows 0 and 1 swapped
    forward, backward = layer_accuracies(keys[None], keys[[3, 2, 1, 0]][None])
    assert forward.tolist() == [0.0] and backward.tolist() == [0.0]


def test_chance_is_the_accuracy_of_random_retrieval():
    assert chance_accuracy(204) == 1 / 204
    with pytest.raises(ValueError, match="at least one candidate"):
        chance_accuracy(0)
    # unrelated random queries and keys: the mean top-1 accuracy over many draws approaches 1/n
    rng = np.random.default_rng(0)
    draws = [top1_accuracy(rng.normal(size=(10, 4)), rng.normal(size=(10, 4))) for _ in range(400)]
    assert np.mean(draws) == pytest.approx(chance_accuracy(10), abs=0.015)


def test_centering_changes_the_geometry():
    # A shared offset dominates the raw cosine; centring removes it so the distinguishing part decides.
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(20, 8))
    queries = signal + 100 * np.ones(8)
    keys = signal + 0.5 * rng.normal(size=(20, 8)) - 100 * np.ones(8) + 100 * rng.normal(size=8)
    assert top1_accuracy(queries, keys, center=True) > top1_accuracy(queries, keys, center=False)


@pytest.mark.parametrize("center", [True, False])
def test_identical_copy_is_perfect_at_every_layer(model_dir, processor, sib_dir, center):
    model = load_model(model_dir)
    result = run_retrieval(
        model, processor, sib_dir, "eng_Latn", ["eng_Copy"], center=center, batch_size=4, progress=False
    )
    assert result.layers == [0, 1, 2]
    assert result.forward["eng_Copy"].tolist() == [1.0, 1.0, 1.0]
    assert result.backward["eng_Copy"].tolist() == [1.0, 1.0, 1.0]


def test_other_languages_table_and_plot(model_dir, processor, sib_dir, tmp_path):
    model = load_model(model_dir)
    result = run_retrieval(
        model,
        processor,
        sib_dir,
        "eng_Latn",
        ["eng_Latn", "hin_Deva", "ukr_Cyrl"],
        layers=[0, 2],
        progress=False,
    )
    assert list(result.forward) == ["hin_Deva", "ukr_Cyrl"]  # the pivot is not scored against itself
    assert result.num_sentences == 8 and result.chance == 1 / 8
    for values in [*result.forward.values(), *result.backward.values(), result.average()]:
        assert values.shape == (2,) and np.all((values >= 0) & (values <= 1))
    tsv = result.tsv().splitlines()
    assert tsv[0].split("\t") == ["language", "direction", "chance", "layer_0", "layer_2"]
    assert len(tsv) == 1 + 3 * 2 + 1
    assert {row.split("\t")[2] for row in tsv[1:]} == {"0.1250"}
    assert result.markdown().splitlines()[0] == "| language | chance | L0 | L2 |"
    assert "| **mean** | 0.125 |" in result.markdown()
    path = result.plot(tmp_path / "retrieval.png")
    image = np.asarray(Image.open(path).convert("L"))
    assert image.shape[0] > 200 and image.shape[1] > 300 and image.std() > 5


def test_chance_follows_the_candidate_count(model_dir, processor, sib_dir):
    result = run_retrieval(
        load_model(model_dir),
        processor,
        sib_dir,
        "eng_Latn",
        ["hin_Deva"],
        layers=[2],
        limit=5,
        progress=False,
    )
    assert result.num_sentences == 5 and result.chance == 0.2
    assert result.tsv().splitlines()[1].split("\t")[:3] == ["hin_Deva", "eng_Latn->hin_Deva", "0.2000"]


def test_unparallel_split_is_refused(sib_dir, tmp_path):
    import shutil

    for lang in ("eng_Latn", "hin_Deva"):
        shutil.copytree(sib_dir / lang, tmp_path / lang)
    path = tmp_path / "hin_Deva" / "test.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = "999" + lines[3][lines[3].index("\t") :]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not parallel.*data row 3"):
        read_parallel(tmp_path, ["eng_Latn", "hin_Deva"])


def test_unknown_language_lists_available(sib_dir):
    with pytest.raises(ValueError, match="available.*eng_Copy, eng_Latn, hin_Deva, ukr_Cyrl"):
        read_parallel(sib_dir, ["eng_Latn", "xyz_Latn"])


def test_real_sib200_splits_are_parallel():
    data = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "sib200"
    if not data.is_dir():
        pytest.skip(f"SIB-200 not found at {data} (it lives in ../shared/data beside the repo)")
    languages = available_languages(data)
    assert len(languages) >= 4
    for split, rows in (("train", 701), ("dev", 99), ("test", 204)):
        splits = read_parallel(data, languages, split)
        assert {len(s.ids) for s in splits.values()} == {rows}
        assert (
            len(set(splits["eng_Latn"].ids)) == rows
        )  # ids are unique, so row i is the same sentence everywhere
