"""CoNLL-U reading, attachment scores against hand-computed values, and the prediction writer."""

from pathlib import Path

import pytest

from pixel.tasks.treebank import (
    UD_HEAD_LABELS,
    UPOS_LABELS,
    attachment_scores,
    read_conllu,
    score_conllu,
    sentence_from_words,
    write_conllu,
)

GOLD = """\
# sent_id = s1
1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\t_\t_\t3\tnsubj\t_\t_
3\tsat\tsit\tVERB\t_\t_\t0\troot\t_\t_
4\ton\ton\tADP\t_\t_\t5\tcase\t_\t_
5\tmats\tmat\tNOUN\t_\t_\t3\tobl:on\t_\t_
6\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\t_

# sent_id = s2
1-2\tdel\t_\t_\t_\t_\t_\t_\t_\t_
1\tde\tde\tADP\t_\t_\t3\tcase\t_\t_
2\tel\tel\tDET\t_\t_\t3\tdet\t_\t_
3\tgato\tgato\tNOUN\t_\t_\t0\troot\t_\t_
3.1\tx\tx\tNOUN\t_\t_\t_\t_\t3:dep\t_
4\t!\t!\tPUNCT\t_\t_\t3\tpunct\t_\t_

"""
# s1: heads right for words 1,2,3,5 (4/6); labels also right for 1,3,5 (word 5: obl vs obl:on is equal after
# stripping the subtype; word 2 has the wrong label) -> 3/6.
# s2: heads right for 1,3,4 (3/4); labels right for 1,3 (word 4 has the wrong label) -> 2/4.
# UAS = 7/10 = 70.0, LAS = 5/10 = 50.0
PREDICTED = """\
1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_
2\tcat\tcat\tNOUN\t_\t_\t3\tobj\t_\t_
3\tsat\tsit\tVERB\t_\t_\t0\troot\t_\t_
4\ton\ton\tADP\t_\t_\t3\tcase\t_\t_
5\tmats\tmat\tNOUN\t_\t_\t3\tobl\t_\t_
6\t.\t.\tPUNCT\t_\t_\t5\tpunct\t_\t_

1-2\tdel\t_\t_\t_\t_\t_\t_\t_\t_
1\tde\tde\tADP\t_\t_\t3\tcase\t_\t_
2\tel\tel\tDET\t_\t_\t1\tdet\t_\t_
3\tgato\tgato\tNOUN\t_\t_\t0\troot\t_\t_
4\t!\t!\tPUNCT\t_\t_\t3\tdep\t_\t_

"""


@pytest.fixture
def gold_path(tmp_path: Path) -> Path:
    path = tmp_path / "gold.conllu"
    path.write_text(GOLD, encoding="utf-8")
    return path


def test_reader_keeps_integer_ids_and_strips_subtypes(gold_path: Path) -> None:
    s1, s2 = read_conllu(gold_path)
    assert s1.words == ["The", "cat", "sat", "on", "mats", "."]
    assert s1.heads == [2, 3, 0, 5, 3, 3]
    assert s1.rels == ["det", "nsubj", "root", "case", "obl", "punct"]
    assert s1.lines == [2, 3, 4, 5, 6, 7]
    assert s2.words == ["de", "el", "gato", "!"]  # no MWT range, no empty node
    assert s2.lines == [11, 12, 13, 15]


def test_attachment_scores_match_hand_computed_values(gold_path: Path, tmp_path: Path) -> None:
    predicted_path = tmp_path / "pred.conllu"
    predicted_path.write_text(PREDICTED, encoding="utf-8")
    scores = score_conllu(read_conllu(gold_path), read_conllu(predicted_path))
    assert scores == {"uas": 70.0, "las": 50.0, "words": 10}


def test_attachment_scores_on_lists() -> None:
    scores = attachment_scores([[2, 0, 2]], [["det", "root", "obj"]], [[2, 0, 1]], [["det", "root", "obj"]])
    assert scores["uas"] == pytest.approx(200 / 3)
    assert scores["las"] == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="length"):
        attachment_scores([[1]], [["x"]], [[1, 2]], [["x", "y"]])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1\tThe\tthe\tDET", "expected 10 columns"),
        ("1 The the", "malformed CoNLL-U line"),
        ("1\tThe\tthe\tDET\t_\t_\tX\tdet\t_\t_", "malformed CoNLL-U line"),
        ("x\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_", "malformed CoNLL-U line"),
        ("1\tThe\tthe\tDET\t_\t_\t_\tdet\t_\t_", "HEAD must be an integer"),
        ("1\tThe\tthe\tDET\t_\t_\t9\tdet\t_\t_", "HEAD 9 outside the sentence"),
        ("3\tThe\tthe\tDET\t_\t_\t0\tdet\t_\t_", "out of sequence"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.conllu"
    path.write_text(GOLD + "# sent_id = s3\n" + line + "\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        read_conllu(path)
    assert f"{path}:18" in str(error.value)


def test_writer_round_trip_and_truncation_marks(gold_path: Path, tmp_path: Path) -> None:
    gold = read_conllu(gold_path)
    out = tmp_path / "out.conllu"
    # sentence 2: only the first two words were kept by the renderer
    write_conllu(
        gold,
        [[2, 3, 0, 5, 3, 3], [3, 0]],
        [["det", "nsubj", "root", "case", "obl", "punct"], ["case", "root"]],
        out,
    )
    written = read_conllu(out)
    assert written[0].heads == gold[0].heads and written[0].rels == gold[0].rels
    assert written[1].heads == [3, 0, 2, 2]  # dropped words hang off the predicted root (word 2)
    assert written[1].rels == ["case", "root", "dep", "dep"]
    text = out.read_text(encoding="utf-8")
    assert text.count("Truncated=Yes") == 2
    assert "1-2\tdel" in text and "# sent_id = s2" in text  # MWT lines and comments survive
    assert score_conllu(gold, written)["uas"] == pytest.approx(100 * 7 / 10)


def test_sentence_from_words_writes_valid_conllu(tmp_path: Path) -> None:
    sentence = sentence_from_words(["a", "b"])
    write_conllu([sentence], [[0, 1]], [["root", "dep"]], tmp_path / "raw.conllu")
    (back,) = read_conllu(tmp_path / "raw.conllu")
    assert back.words == ["a", "b"] and back.heads == [0, 1]


@pytest.mark.parametrize(
    ("treebank", "split", "sentences", "words"),
    [("tamil", "train", 400, 6329), ("vietnamese", "dev", 1123, 26162)],
)
def test_real_treebanks(
    request: pytest.FixtureRequest, treebank: str, split: str, sentences: int, words: int
) -> None:
    path = next(request.getfixturevalue(treebank).glob(f"*-ud-{split}.conllu"))
    read = read_conllu(path)
    assert len(read) == sentences
    assert sum(len(s.words) for s in read) == words
    assert all(r in UD_HEAD_LABELS for s in read for r in s.rels)
    assert all(u in UPOS_LABELS for s in read for u in s.upos)
    assert all(0 <= h <= len(s.words) for s in read for h in s.heads)
    assert sum(h == 0 for s in read for h in s.heads) == sentences  # one root each


def test_tamil_multiword_tokens_are_skipped(tamil: Path) -> None:
    first = read_conllu(tamil / "ta_ttb-ud-train.conllu")[0]
    assert len(first.words) == 25  # IDs 1..25; the ranges 11-12 and 23-24 are not words
    assert first.words[10] == "நிலையத்துக்குக்க்" and first.heads[22] == 0
