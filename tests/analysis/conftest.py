"""Shared fixtures: a tiny saved PIXEL MAE with its processor (renderer), and a tiny SIB-200-format folder.

The SIB folder holds three languages (`eng_Latn`, `hin_Deva`, `ukr_Cyrl`) and `eng_Copy`, a byte-identical copy of
`eng_Latn`, so that retrieval against it must be perfect at every layer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from tiny_models import tiny_mae_config

from pixel.data.processor import PIXELProcessor
from pixel.model import PIXELConfig, PIXELForPreTraining
from pixel.render import PangoCairoTextRenderer

TOPICS = ["sports", "health"]
SENTENCES = {
    "eng_Latn": [
        "The team won the final match.",
        "She runs ten kilometres every morning.",
        "Drink water when you have a fever.",
        "The doctor checked his blood pressure.",
        "Our goalkeeper saved a penalty.",
        "Vitamins help the body stay strong.",
        "The cyclists climbed the mountain pass.",
        "Sleep is important for recovery from illness.",
        "He scored twice in the second half.",
        "Wash your hands before every meal.",
        "The swimmer broke the world record.",
        "A cold usually lasts about a week.",
    ],
    "hin_Deva": [
        "टीम ने फाइनल मैच जीता।",
        "वह हर सुबह दस किलोमीटर दौड़ती है।",
        "बुखार होने पर पानी पिएं।",
        "डॉक्टर ने उसका रक्तचाप जांचा।",
        "हमारे गोलकीपर ने पेनल्टी बचाई।",
        "विटामिन शरीर को मजबूत रखते हैं।",
        "साइकिल चालक पहाड़ी दर्रे पर चढ़े।",
        "बीमारी से उबरने के लिए नींद जरूरी है।",
        "उसने दूसरे हाफ में दो गोल किए।",
        "हर भोजन से पहले हाथ धोएं।",
        "तैराक ने विश्व रिकॉर्ड तोड़ा।",
        "जुकाम आमतौर पर एक सप्ताह रहता है।",
    ],
    "ukr_Cyrl": [
        "Команда виграла фінальний матч.",
        "Вона бігає десять кілометрів щоранку.",
        "Пийте воду, коли у вас гарячка.",
        "Лікар перевірив його тиск.",
        "Наш воротар відбив пенальті.",
        "Вітаміни допомагають тілу бути сильним.",
        "Велосипедисти піднялися на гірський перевал.",
        "Сон важливий для одужання після хвороби.",
        "Він забив двічі у другому таймі.",
        "Мийте руки перед кожною їжею.",
        "Плавець побив світовий рекорд.",
        "Застуда зазвичай триває близько тижня.",
    ],
}
TEST_ROWS = 8  # the first 8 rows are the test split, all 12 the train split


def write_split(path: Path, ids: list[int], categories: list[str], texts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["index_id\tcategory\ttext"] + [
        f"{i}\t{c}\t{t}" for i, c, t in zip(ids, categories, texts, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def sib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sib200")
    for lang, texts in SENTENCES.items():
        ids = [100 + i for i in range(len(texts))]
        categories = [TOPICS[i % 2] for i in range(len(texts))]
        write_split(root / lang / "train.tsv", ids, categories, texts)
        write_split(root / lang / "test.tsv", ids[:TEST_ROWS], categories[:TEST_ROWS], texts[:TEST_ROWS])
    shutil.copytree(root / "eng_Latn", root / "eng_Copy")
    return root


def tiny_config() -> PIXELConfig:
    return tiny_mae_config(
        image_size=(16, 16 * 64),
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


@pytest.fixture(scope="session")
def processor() -> PIXELProcessor:
    return PIXELProcessor(PangoCairoTextRenderer(max_seq_length=64))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, processor: PIXELProcessor) -> Path:
    """A randomly initialised (seeded) tiny `PIXELForPreTraining` saved with its processor (renderer)."""
    folder = tmp_path_factory.mktemp("tiny-pixel")
    torch.manual_seed(0)
    PIXELForPreTraining(tiny_config()).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
