"""Bad data files fail where they are read, with one ValueError naming the file, the line and the fix.

Classes of fault: a text file that is not UTF-8 (every reader), malformed JSON, a CoNLL-U sentence that is not a
tree (parser only), a label list with a duplicate or a blank line; and `pixel finetune` prints each as one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixel.tasks import get_task
from pixel.tasks.base import read_label_list
from pixel.tasks.ner import read_conll_ner, read_label_file
from pixel.tasks.qa import read_squad
from pixel.tasks.treebank import find_cycle, read_conllu

WORD = "café"  # é is one byte in Latin-1 (0xe9) and not valid UTF-8 there


def conllu_row(i: int, form: str, head: int, rel: str) -> str:
    return f"{i}\t{form}\t{form}\tNOUN\t_\t_\t{head}\t{rel}\t_\t_"


def squad(context: str) -> str:
    qa = {"id": "q1", "question": "What?", "answers": [{"text": context.split()[0], "answer_start": 0}]}
    data = {"data": [{"paragraphs": [{"context": context, "qas": [qa]}]}]}
    return json.dumps(data, indent=1, ensure_ascii=False)


# reader name -> (file name, text with WORD on some line, reader)
READERS: dict[str, tuple[str, str, Callable[[Path], object]]] = {
    "conllu": (
        "x-ud-train.conllu",
        "# sent_id = 1\n" + conllu_row(1, WORD, 0, "root") + "\n\n",
        read_conllu,
    ),
    "conll_ner": ("train.txt", f"Kyiv B-LOC\n{WORD} O\n", read_conll_ner),
    "sib_tsv": ("train.tsv", f"index_id\tcategory\ttext\n1\ttravel\t{WORD}\n", get_task("sib").read),
    "csv": ("train.csv", f"text,label\n{WORD},pos\n", get_task("classification").read),
    "jsonl": (
        "train.jsonl",
        json.dumps({"text": "a", "label": "x"})
        + "\n"
        + json.dumps({"text": WORD, "label": "y"}, ensure_ascii=False),
        get_task("classification").read,
    ),
    "json": ("train.json", f'[\n{{"text": "{WORD}", "label": "pos"}}\n]', get_task("classification").read),
    "label_list": ("labels.txt", f"sports\n{WORD}\n", read_label_list),
    "squad": ("dev.json", squad(f"{WORD} au lait"), read_squad),
}


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("reader", READERS)
def test_utf8_with_and_without_byte_order_mark_reads(tmp_path: Path, reader: str) -> None:
    name, text, read = READERS[reader]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    plain = read(path)
    path.write_text(text, encoding="utf-8-sig")
    assert read(path) == plain


@pytest.mark.parametrize("reader", READERS)
def test_latin1_names_file_line_byte_and_the_iconv_fix(tmp_path: Path, reader: str) -> None:
    name, text, read = READERS[reader]
    path = tmp_path / name
    path.write_text(text, encoding="latin-1")
    with pytest.raises(ValueError) as error:
        read(path)
    message = str(error.value)
    assert message.startswith(f"{path}:{line_of(text, WORD)}: not UTF-8 (byte 0xe9 at offset ")
    assert f"iconv -f latin1 -t utf-8 {path}" in message and "\n" not in message


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("encoding", "expected"), [("utf-16", "the file is UTF-16"), ("utf-32", "UTF-32")])
def test_utf16_and_utf32_with_byte_order_mark_are_named(
    tmp_path: Path, reader: str, encoding: str, expected: str
) -> None:
    name, text, read = READERS[reader]
    path = tmp_path / name
    path.write_text(text, encoding=encoding)  # Python writes the byte-order mark first
    with pytest.raises(ValueError, match=re.escape(f"{path}:1: ") + ".*" + expected) as error:
        read(path)
    assert f"iconv -f {encoding} -t utf-8" in str(error.value)


def test_utf16_without_byte_order_mark_is_caught_by_its_nul_bytes(tmp_path: Path) -> None:
    name, text, read = READERS["sib_tsv"]
    path = tmp_path / name
    path.write_text(text, encoding="utf-16-le")
    with pytest.raises(
        ValueError, match=re.escape(f"{path}:1: NUL byte at offset 1") + ".*iconv -f utf-16le"
    ):
        read(path)


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("train.jsonl", '{"text": "a", "label": "x"}\n\n{"text": "b", "label": }\n', 3),
        ("train.json", '[\n{"text": "a", "label": "x"},\n{"text": "b" "label": "y"}\n]', 3),
    ],
)
def test_malformed_json_names_file_and_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:{line}: invalid JSON at column ")):
        get_task("classification").read(path)


def test_malformed_squad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    path.write_text(squad("x y")[:-3], encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:") + r"\d+: invalid JSON"):
        read_squad(path)


# --- CoNLL-U trees --------------------------------------------------------------------------------------------

GOOD = "# sent_id = ok\n" + "\n".join(
    [conllu_row(1, "a", 2, "det"), conllu_row(2, "b", 0, "root"), conllu_row(3, "c", 2, "punct")]
)


def treebank(tmp_path: Path, heads: list[int]) -> Path:
    """GOOD, then sentence `bad` (first line 6, words on lines 7..) with the given heads."""
    rows = [conllu_row(i, f"w{i}", h, "root" if h == 0 else "dep") for i, h in enumerate(heads, start=1)]
    path = tmp_path / "x-ud-train.conllu"
    path.write_text(GOOD + "\n\n# sent_id = bad\n" + "\n".join(rows) + "\n\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("heads", "line", "problem"),
    [
        ([2, 3, 2, 0], 8, "has a HEAD cycle (2 -> 3 -> 2)"),
        ([0, 2, 1], 8, "has a HEAD cycle (2 -> 2)"),  # a word that heads itself
        ([2, 3, 1], 6, "has no root (no word with HEAD 0)"),
        ([0, 1, 0], 9, "has 2 roots (words 1, 3 have HEAD 0)"),
    ],
)
def test_parser_refuses_a_sentence_that_is_not_a_tree(tmp_path: Path, heads, line, problem) -> None:
    path = treebank(tmp_path, heads)
    with pytest.raises(ValueError) as error:
        get_task("ud").read(path)
    assert str(error.value).startswith(f"{path}:{line}: sentence bad {problem}; fix the HEAD column")
    with pytest.raises(ValueError, match=re.escape(problem)):
        read_conllu(path)  # the default: trees are checked
    # POS needs only UPOS, so the same file is fine for it
    assert [s.words for s in get_task("pos").read(path)][1] == [f"w{i}" for i in range(1, len(heads) + 1)]


def test_sentence_without_sent_id_is_named_by_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "x-ud-train.conllu"
    rows = [conllu_row(1, "a", 0, "root"), conllu_row(2, "b", 2, "dep")]
    path.write_text(GOOD + "\n\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=re.escape(f"{path}:7: the sentence starting on line 6 has a HEAD cycle (2 -> 2)")
    ):
        read_conllu(path)


@pytest.mark.parametrize(
    ("heads", "cycle"),
    [
        ([0], None),
        ([2, 0, 2], None),
        ([1], [1]),
        ([2, 1], [1, 2]),
        ([0, 3, 4, 2], [2, 3, 4]),
        ([2, 0, 4, 3], [3, 4]),
    ],
)
def test_find_cycle(heads: list[int], cycle: list[int] | None) -> None:
    assert find_cycle(heads) == cycle


@given(st.lists(st.integers(0, 12), min_size=1, max_size=12).map(lambda hs: [h % (len(hs) + 1) for h in hs]))
def test_find_cycle_agrees_with_walking_to_the_root(heads: list[int]) -> None:
    def reaches_root(word: int) -> bool:
        for _ in range(len(heads)):
            word = heads[word - 1]
            if word == 0:
                return True
        return False

    cycle = find_cycle(heads)
    assert (cycle is None) == all(reaches_root(w) for w in range(1, len(heads) + 1))
    if cycle:  # a real cycle: each word's head is the next one
        assert [heads[w - 1] for w in cycle] == [*cycle[1:], cycle[0]]


# --- label lists ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "sports\nhealth\nsports\n",
            ":3: label 'sports' is listed twice (first on line 1); remove the duplicate",
        ),
        ("sports\n\nhealth\n", ":2: blank line in the label list; remove it"),
        ("\n\n", ": the label list is empty"),
    ],
)
def test_bad_label_list_names_file_line_and_label(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "labels.txt"
    path.write_text(text, encoding="utf-8")
    for read in (
        read_label_list,
        read_label_file,
        lambda p: get_task("sib").labels(tmp_path),  # SIB-200's labels.txt in the data folder
        lambda p: get_task("classification").labels(tmp_path, label_file=p),  # --labels
    ):
        with pytest.raises(ValueError, match=re.escape(f"{path}{message}")):
            read(path)


def test_label_list_keeps_order_and_ignores_trailing_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "labels.txt"
    path.write_text(" B-PER\r\nI-PER \n\n\n", encoding="utf-8")
    assert read_label_list(path) == ["B-PER", "I-PER"]
    assert read_label_file(path) == ["O", "B-PER", "I-PER"]


# --- the command line: one `error:` line, no traceback ----------------------------------------------------------


def sib_folder(root: Path, train: str, encoding: str = "utf-8", labels: str | None = None) -> Path:
    root.mkdir()
    (root / "train.tsv").write_text(train, encoding=encoding)
    if labels is not None:
        (root / "labels.txt").write_text(labels, encoding="utf-8")
    return root


@pytest.mark.parametrize("fault", ["latin1", "duplicate_label", "cycle"])
def test_finetune_prints_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture, fault: str) -> None:
    from pixel.train.finetune import main

    train = f"index_id\tcategory\ttext\n1\tsports\t{WORD}\n2\thealth\tok\n"
    if fault == "latin1":
        task, data, expected = "sib", sib_folder(tmp_path / "d", train, "latin-1"), "train.tsv:2: not UTF-8"
    elif fault == "duplicate_label":
        data = sib_folder(tmp_path / "d", train, labels="sports\nhealth\nsports\n")
        task, expected = "sib", "labels.txt:3: label 'sports' is listed twice"
    else:
        task, data, expected = "ud", treebank(tmp_path, [2, 3, 2, 0]).parent, "sentence bad has a HEAD cycle"
    model = tmp_path / "model"  # never reached: the data fails first
    model.mkdir()
    argv = [
        "--model_name_or_path",
        str(model),
        "--data_dir",
        str(data),
        "--output_dir",
        str(tmp_path / "out"),
    ]
    assert main([task, *argv, "--do_train", "--report_to", "none"]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]  # (log lines may come before it)
    assert (
        len(errors) == 1 and errors[0].startswith(f"pixel finetune {task}: error: ") and expected in errors[0]
    )
    assert "Traceback" not in err
