import itertools
import json

import pytest

from pixel.data.text import TextSource, interleave_sources, load_source


@pytest.fixture()
def corpus(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps({"content": f"b{i}", "id": i}) for i in range(5)))
    (tmp_path / "c.tsv").write_text('id\ttext\n1\tsays "hi\n2\tplain\n')
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["p0", "p1"], "other": [1, 2]}), tmp_path / "d.parquet")
    return tmp_path


def texts(stream, n=100):
    return [row["text"] for row in itertools.islice(stream, n)]


def test_local_formats(corpus):
    assert texts(load_source(TextSource(path="a.txt"), corpus)) == ["one", "two", "three"]
    assert texts(load_source(TextSource(path=str(corpus / "b.jsonl"), column="content"))) == [
        f"b{i}" for i in range(5)
    ]
    assert texts(load_source(TextSource(path="c.tsv"), corpus)) == ['says "hi', "plain"]  # bare quote kept
    rows = list(load_source(TextSource(path="*.parquet"), corpus))
    assert rows == [{"text": "p0"}, {"text": "p1"}]


def test_errors_name_the_problem(corpus):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        load_source(TextSource(path="missing.txt"), corpus)
    with pytest.raises(ValueError, match="exactly one of"):
        TextSource()
    with pytest.raises(ValueError, match="unknown text source keys"):
        TextSource.from_dict({"path": "a.txt", "lang": "en"})


def test_interleave_probabilities_and_stopping(corpus):
    a = load_source(TextSource(path="a.txt"), corpus)
    b = load_source(TextSource(path="b.jsonl", column="content"), corpus)
    first = texts(interleave_sources([a, b], [0.5, 0.5], seed=0, stopping_strategy="first_exhausted"))
    every = texts(interleave_sources([a, b], [0.5, 0.5], seed=0, stopping_strategy="all_exhausted"))
    assert set(first) < set(every)
    assert {"one", "two", "three", "b0", "b4"} <= set(every)
    assert texts(interleave_sources([a, b], [1.0, 0.0], seed=0, stopping_strategy="first_exhausted")) == [
        "one",
        "two",
        "three",
    ]
    assert first == texts(interleave_sources([a, b], [1, 1], seed=0))  # normalised, seeded
    with pytest.raises(ValueError, match="probabilities"):
        interleave_sources([a, b], [1.0], seed=0)
