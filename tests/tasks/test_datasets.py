"""Each task's dataset renders real data into correctly shaped features with the real renderer.

Items are `{"encoding": Encoding, **labels}`; `features` collates one with the task's collator, as the Trainer does.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pixel.tasks import get_task
from pixel.tasks.qa import decode_answers, squad_metrics
from pixel.tasks.treebank import UD_HEAD_LABELS, UPOS_LABELS, read_conllu

L = 64


@pytest.fixture(scope="module")
def tamil_dev(tamil: Path) -> list:
    return read_conllu(tamil / "ta_ttb-ud-dev.conllu")[:12]


def features_of(task, dataset, index: int) -> dict:
    """Item `index` of `dataset` through the task's collator, as a batch of one without its batch axis."""
    batch = task.collator(dataset.encoder.processor)([dataset[index]])
    return {key: value[0] for key, value in batch.items()}


def _common(features: dict, length: int = L) -> None:
    assert features["pixel_values"].shape == (3, 16, 16 * length)
    assert features["pixel_values"].dtype == torch.float32
    assert 0.0 <= features["pixel_values"].min() and features["pixel_values"].max() <= 1.0
    mask = features["attention_mask"]
    assert mask.shape == (length,) and mask.dtype == torch.float32
    n = int(mask.sum())
    assert (mask[:n] == 1).all() and (mask[n:] == 0).all()
    eos = n - 1  # the last attended patch is the black EOS patch
    assert features["pixel_values"][:, :, 16 * eos : 16 * (eos + 1)].max() == 0.0


def test_parsing_features(processor, tamil_dev: list) -> None:
    task = get_task("ud")
    dataset = task.dataset(tamil_dev, processor, task.labels())
    assert len(dataset) == len(tamil_dev)
    total_dropped = 0
    items = (features_of(task, dataset, i) for i in range(len(dataset)))
    for sentence, features in zip(tamil_dev, items, strict=True):
        _common(features)
        starts = features["word_starts"]
        assert starts.shape == (L + 1,)
        kept = int((starts != -100).sum()) - 1
        assert starts[kept] == int(features["attention_mask"].sum()) - 1 or starts[kept] == L  # EOS patch
        assert (starts[:kept].diff() > 0).all()  # every word starts at a fresh patch
        arcs, rels = features["arc_labels"], features["rel_labels"]
        assert arcs.shape == rels.shape == (L,)
        assert arcs[:kept].tolist() == sentence.heads[:kept]
        assert rels[:kept].tolist() == [UD_HEAD_LABELS.index(r) for r in sentence.rels[:kept]]
        assert (arcs[kept:] == -100).all() and (rels[kept:] == -100).all()  # dropped words are not scored
        total_dropped += len(sentence.words) - kept
    report = dataset.truncation_report(progress=False)
    assert report.dropped_words == total_dropped > 0  # at 64 patches some Tamil sentences lose words
    assert report.words == sum(len(s.words) for s in tamil_dev)


def test_parsing_published_mode_scores_dropped_words(processor, tamil_dev: list) -> None:
    task = get_task("ud", score_dropped_words=True)
    dataset = task.dataset(tamil_dev, processor, task.labels())
    long = max(range(len(tamil_dev)), key=lambda i: len(tamil_dev[i].words))
    features = features_of(task, dataset, long)
    kept = int((features["word_starts"] != -100).sum()) - 1
    n = min(len(tamil_dev[long].words), L)
    assert kept < n
    expected = [h if h <= L else -100 for h in tamil_dev[long].heads[:n]]
    assert features["arc_labels"][:n].tolist() == expected


def test_pos_features(processor, tamil_dev: list) -> None:
    task = get_task("pos")
    dataset = task.dataset(tamil_dev, processor, task.labels())
    parsing = get_task("ud")
    parser = parsing.dataset(tamil_dev, processor, UD_HEAD_LABELS)
    for i, sentence in enumerate(tamil_dev):
        features, parsed = features_of(task, dataset, i), features_of(parsing, parser, i)
        assert "word_starts" not in features  # only the parser's collator adds them
        _common(features)
        labels = features["labels"]
        kept = int((parsed["word_starts"] != -100).sum()) - 1
        positions = torch.where(labels != -100)[0]
        assert positions.tolist() == parsed["word_starts"][:kept].tolist()  # first patch of each kept word
        assert labels[positions].tolist() == [UPOS_LABELS.index(u) for u in sentence.upos[:kept]]


def test_vietnamese_pos(processor, vietnamese: Path) -> None:
    task = get_task("pos")
    sentences = task.read(task.find_split(vietnamese, "train"))[:4]
    dataset = task.dataset(sentences, processor, task.labels())
    for i in range(len(dataset)):
        features = features_of(task, dataset, i)
        _common(features)
        assert int((features["labels"] != -100).sum()) <= len(sentences[i].words)


def test_ner_features(processor, ner_dir: Path) -> None:
    task = get_task("ner")
    labels = task.labels(ner_dir)
    sentences = task.read(task.find_split(ner_dir, "dev"))[:6]
    dataset = task.dataset(sentences, processor, labels)
    features = features_of(task, dataset, 0)
    _common(features)
    kept_labels = features["labels"][features["labels"] != -100].tolist()
    assert kept_labels == [labels.index(t) for t in sentences[0].tags[: len(kept_labels)]]


def test_sib_features(processor, sib_eng: Path) -> None:
    task = get_task("sib")
    labels = task.labels(sib_eng)
    examples = task.read(task.find_split(sib_eng, "dev"))[:4]
    dataset = task.dataset(examples, processor, labels)
    batch = task.collator(processor)([dataset[i] for i in range(4)])
    assert batch["pixel_values"].shape == (4, 3, 16, 16 * L)
    assert batch["attention_mask"].shape == (4, L)
    assert batch["labels"].tolist() == [labels.index(e.label) for e in examples]


def test_pair_features(processor, tmp_path: Path) -> None:
    rows = [{"sentence1": "A man sleeps.", "sentence2": "Someone rests.", "label": "entailment"}]
    (tmp_path / "dev.jsonl").write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    task = get_task("pair_classification")
    examples = task.read(task.find_split(tmp_path, "dev"))
    features = features_of(task, task.dataset(examples, processor, ["entailment", "neutral"]), 0)
    _common(features)
    single = processor.renderer("A man sleeps.")
    # the separator after text_a is a black patch, followed by text_b
    sep = single.num_text_patches
    assert features["pixel_values"][:, :, 16 * sep : 16 * (sep + 1)].max() == 0.0
    assert int(features["attention_mask"].sum()) > sep + 2


def test_qa_windows_and_perfect_decoding(processor, tmp_path: Path) -> None:
    context = " ".join(f"word{i}" for i in range(60)) + " The capital of France is Paris. " + "tail " * 40
    qas = [
        {
            "id": "q1",
            "question": "Capital of France?",
            "answers": [{"text": "Paris", "answer_start": context.index("Paris")}],
        },
        {
            "id": "q2",
            "question": "Which?",
            "answers": [{"text": "word3 word4", "answer_start": context.index("word3 ")}],
        },
    ]
    (tmp_path / "dev.json").write_text(
        json.dumps({"data": [{"paragraphs": [{"context": context, "qas": qas}]}]})
    )
    task = get_task("qa", stride=16)
    examples = task.read(task.find_split(tmp_path, "dev"))
    dataset = task.dataset(examples, processor, [])
    assert len(dataset) > 2  # the long context is cut into overlapping windows
    starts = np.full((len(dataset), L + 1), -5.0)
    ends = starts.copy()
    answered = 0
    for k in range(len(dataset)):
        features = features_of(task, dataset, k)
        _common(features)
        s, e = int(features["start_positions"]), int(features["end_positions"])
        assert (s == e == L) or (0 <= s <= e < L)
        answered += s != L
        starts[k, s], ends[k, e] = 5.0, 5.0
    assert answered >= 2
    answers = decode_answers(dataset, starts, ends)
    assert answers == {"q1": "Paris.", "q2": "word3 word4"}
    assert squad_metrics(answers, examples) == {"exact_match": 100.0, "f1": 100.0}
    predictions = np.stack([starts, ends], axis=1)
    task.write_predictions(examples, predictions, [], tmp_path / "pred.json")
    assert json.loads((tmp_path / "pred.json").read_text())["q2"] == "word3 word4"


def test_qa_with_the_continuous_renderer_aligns_patches_by_offset_mapping(tmp_path: Path) -> None:
    from pixel.data.processor import PIXELProcessor
    from pixel.render import PangoCairoTextRenderer

    context = (
        " ".join(f"Sentence {i} is filler." for i in range(30)) + " The capital of France is Paris. The end."
    )
    qas = [
        {"id": "late", "question": "Capital?", "answers": [{"text": "Paris", "answer_start": context.index("Paris")}]},
        {"id": "early", "question": "Which?", "answers": [{"text": "Sentence 2", "answer_start": context.index("Sentence 2")}]},
    ]  # fmt: skip
    (tmp_path / "dev.json").write_text(
        json.dumps({"data": [{"paragraphs": [{"context": context, "qas": qas}]}]})
    )
    task = get_task("qa", stride=8)
    examples = task.read(task.find_split(tmp_path, "dev"))
    continuous = PIXELProcessor(PangoCairoTextRenderer(rendering_strategy="continuous", max_seq_length=L))
    dataset = task.dataset(examples, continuous, [])
    windows = dataset.examples
    assert len(windows) > 4 and all(w.spans is not None and not w.rtl for w in windows)
    assert dataset[0]["encoding"].overflowing_patches is None  # the other windows are items of their own
    starts = np.full((len(dataset), L + 1), -5.0)
    ends = starts.copy()
    answered = {}
    for k, window in enumerate(windows):
        features = features_of(task, dataset, k)
        _common(features)
        s, e = int(features["start_positions"]), int(features["end_positions"])
        if s != L:
            answered[window.example] = answered.get(window.example, 0) + 1
            spans = dict(zip(window.starts, window.spans, strict=True))
            answer = examples[window.example].answers[0]
            a = answer["answer_start"]
            assert spans[s][0] <= a < spans[s][1] and spans[e][0] <= a + len(answer["text"]) - 1 < spans[e][1]
            starts[k, s], ends[k, e] = 5.0, 5.0
    assert set(answered) == {0, 1}  # the late answer is found in an overflow window
    answers = decode_answers(dataset, starts, ends)
    for (
        example
    ) in examples:  # a patch holds a few characters: the decoded span covers the answer and little more
        gold = example.answers[0]["text"]
        assert gold in answers[example.id] and len(answers[example.id]) <= len(gold) + 8
