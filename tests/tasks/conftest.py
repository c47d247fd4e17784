"""Shared fixtures: the real data (`data_location`: ../shared/data or $PIXEL_DATA_DIR), and NER files built from UD
tokens at test time."""

from pathlib import Path

import pytest
from data_location import SIB200, UD
from data_location import need_data as need

TAMIL = UD / "UD_Tamil-TTB"
VIETNAMESE = UD / "UD_Vietnamese-VTB"
SIB_ENG = SIB200 / "eng_Latn"


def ner_tags_from_upos(upos: list[str]) -> list[str]:
    """A toy NER tagging of a UD sentence: runs of PROPN are PER entities, NUM words are QTY."""
    tags, previous = [], None
    for tag in upos:
        if tag == "PROPN":
            tags.append("I-PER" if previous == "PROPN" else "B-PER")
        elif tag == "NUM":
            tags.append("B-QTY")
        else:
            tags.append("O")
        previous = tag
    return tags


@pytest.fixture(scope="session")
def tamil() -> Path:
    return need(TAMIL)


@pytest.fixture(scope="session")
def vietnamese() -> Path:
    return need(VIETNAMESE)


@pytest.fixture(scope="session")
def sib_eng() -> Path:
    return need(SIB_ENG)


@pytest.fixture(scope="session")
def ner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/dev/test.txt in CoNLL `token tag` format from Tamil-TTB (never committed)."""
    from pixel.tasks.treebank import read_conllu

    folder = tmp_path_factory.mktemp("ner")
    for split in ("train", "dev", "test"):
        sentences = read_conllu(need(TAMIL) / f"ta_ttb-ud-{split}.conllu")
        with open(folder / f"{split}.txt", "w", encoding="utf-8") as f:
            f.write("-DOCSTART- O\n\n")
            for sentence in sentences:
                for word, tag in zip(sentence.words, ner_tags_from_upos(sentence.upos), strict=True):
                    f.write(f"{word} {tag}\n")
                f.write("\n")
    return folder


@pytest.fixture(scope="session")
def processor():
    """The default (bigrams, Noto) renderer at 64 patches: short enough that long Tamil sentences get truncated."""
    from pixel.data.processor import PIXELProcessor
    from pixel.render import PangoCairoTextRenderer

    return PIXELProcessor(PangoCairoTextRenderer(max_seq_length=64))
