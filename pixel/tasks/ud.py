"""Universal Dependencies: biaffine dependency parsing (`ud`) and UPOS tagging (`pos`) from CoNLL-U treebanks.

Parser features (§4 of the spec): `pixel_values [3, 16, 16L]`, `attention_mask [L]`, `word_starts [L+1]` (-100 pad;
these three from the processor's `EncodingCollator`), `arc_labels [L]` (gold head per word, heads > L -> -100) and
`rel_labels [L]` (ids in UD_HEAD_LABELS).

Words the renderer drops by truncation get -100 labels here, so they are neither trained on nor scored, and
`RenderedDataset.truncation_report()` counts them. The published code kept their labels (scoring zero vectors);
`score_dropped_words=True` reproduces that.

Decoding, both reported: the published argmax (`uas`, `las`: head = argmax over all L+1 candidates) and MST
(`mst_uas`, `mst_las`: a well-formed tree over the sentence's words). The relation is read at the *predicted* head;
the published evaluation reads it at the gold head, which gives the same LAS because LAS needs the head right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pixel.tasks.base import (
    IGNORE_INDEX,
    Baseline,
    RenderedDataset,
    Task,
    fitted_on,
    majority_id,
    split_file,
)
from pixel.tasks.tagging import (
    WordTagEncoder,
    check_labels,
    compact_words_np,
    majority_tag,
    scored_predictions,
    word_starts,
)
from pixel.tasks.treebank import (
    UD_HEAD_LABELS,
    UPOS_LABELS,
    Sentence,
    read_conllu,
    sentence_from_words,
    write_conllu,
)

if TYPE_CHECKING:
    from pixel.data.processor import EncodingCollator, PIXELProcessor

__all__ = [
    "ArcEncoder",
    "POSTask",
    "ParsingTask",
    "chain_baseline",
    "chain_heads",
    "decode_parses",
    "find_treebank_split",
    "parsing_metrics",
    "raw_sentence",
]

# channels of the parser's eval predictions [N, L, 4]
ARGMAX_HEAD, ARGMAX_REL, MST_HEAD, MST_REL = range(4)


def find_treebank_split(data_dir: Path, split: str) -> Path:
    """`*-ud-{split}.conllu` in a treebank folder; FileNotFoundError naming the missing file otherwise."""
    try:
        return split_file(data_dir, split, [f"*-ud-{split}.conllu"])
    except FileNotFoundError as error:
        others = sorted(Path(data_dir).glob("*-ud-*.conllu")) if Path(data_dir).is_dir() else []
        if not others:
            raise
        expected = f"{others[0].name.split('-ud-')[0]}-ud-{split}.conllu"
        present = ", ".join(o.name for o in others)
        raise FileNotFoundError(
            f"no {split} split in {data_dir}: no file matches *-ud-{split}.conllu (e.g. {expected}); "
            f"the treebank has {present}"
        ) from error


@dataclass
class ArcEncoder(WordTagEncoder):
    """Parser features for one `Sentence`: its Encoding (the collator adds its `word_starts`) and gold arcs."""

    score_dropped_words: bool = False

    def __call__(self, sentence: Sentence) -> dict[str, Any]:
        encoding = self.render(sentence)
        length = self.max_seq_length
        kept = len(word_starts(encoding)) - 1
        n = min(len(sentence.words) if self.score_dropped_words else kept, length)
        heads = torch.as_tensor(sentence.heads[:n], dtype=torch.long)
        heads = heads.masked_fill(heads > length, IGNORE_INDEX)
        rels = torch.as_tensor([self.label2id[r] for r in sentence.rels[:n]], dtype=torch.long)
        if not self.score_dropped_words:
            rels = rels.masked_fill(heads == IGNORE_INDEX, IGNORE_INDEX)
        arc_labels = torch.full((length,), IGNORE_INDEX, dtype=torch.long)
        rel_labels = torch.full((length,), IGNORE_INDEX, dtype=torch.long)
        arc_labels[:n], rel_labels[:n] = heads, rels
        return {"encoding": encoding, "arc_labels": arc_labels, "rel_labels": rel_labels}  # (L,), (L,)


def _labels_tuple(labels: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(labels, dict):
        return labels["arc_labels"], labels["rel_labels"]
    arc, rel = labels[0], labels[1]
    return arc, rel


def _rels_at(rel_logits: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
    """Relation argmax at the given head of each word: rel_logits [B, L, L+1, R], heads [B, L] -> [B, L]."""
    index = heads.clamp(min=0)[..., None, None].expand(-1, -1, 1, rel_logits.shape[-1])
    return torch.gather(rel_logits, 2, index).squeeze(2).argmax(-1)


def mst_heads(scores: np.ndarray) -> np.ndarray:
    """Best single-root tree for `scores [n, n+1]` (word i, head j; j = 0 is ROOT) -> heads [n] in 0..n."""
    from pixel.model import mst_decode

    return np.asarray(mst_decode(scores))


def decode_parses(logits: Any, labels: Any) -> torch.Tensor:
    """Shrink parser outputs to word-level predictions `[B, L, 4]` (argmax head/rel, MST head/rel), -100 padded.

    The number of words n of a sentence is 1 + the last position with a gold head (placeholder heads 0 when
    predicting raw text); MST decodes over those n words, argmax over all L+1 candidates as published.
    """
    arc_logits, rel_logits = logits[0], logits[1]  # (B, L, L+1), (B, L, L+1, R)
    arc_labels, _ = _labels_tuple(labels)
    batch, length = arc_labels.shape
    argmax_heads = arc_logits.argmax(-1)  # (B, L)
    argmax_rels = _rels_at(rel_logits, argmax_heads)
    labelled = arc_labels != IGNORE_INDEX
    positions = torch.arange(length, device=arc_labels.device).expand(batch, -1)
    counts = torch.where(labelled, positions + 1, 0).amax(-1).tolist()  # words per sentence
    scores = arc_logits.detach().float().cpu().numpy()
    mst = torch.zeros_like(argmax_heads)
    for b, n in enumerate(counts):
        if n:
            mst[b, :n] = torch.as_tensor(mst_heads(scores[b, :n, : n + 1]), device=mst.device)
    mst_rels = _rels_at(rel_logits, mst)
    out = torch.stack([argmax_heads, argmax_rels, mst, mst_rels], dim=-1)  # (B, L, 4)
    beyond = positions >= torch.as_tensor(counts, device=positions.device)[:, None]
    return out.masked_fill(beyond[..., None], IGNORE_INDEX)


def parsing_metrics(
    predictions: np.ndarray, arc_labels: np.ndarray, rel_labels: np.ndarray
) -> dict[str, float]:
    """UAS/LAS x100 for argmax and MST decoding over the words with a gold head (`arc_labels != -100`)."""
    scored = arc_labels != IGNORE_INDEX
    words = int(scored.sum())
    metrics: dict[str, float] = {"words": words}
    for prefix, head, rel in (("", ARGMAX_HEAD, ARGMAX_REL), ("mst_", MST_HEAD, MST_REL)):
        head_ok = (predictions[..., head] == arc_labels) & scored
        label_ok = head_ok & (predictions[..., rel] == rel_labels)
        metrics[f"{prefix}uas"] = 100.0 * head_ok.sum() / max(words, 1)
        metrics[f"{prefix}las"] = 100.0 * label_ok.sum() / max(words, 1)
    return metrics


def chain_heads(n: int, direction: str) -> np.ndarray:
    """Heads `[n]` (1-based, 0 = ROOT) of the left chain (each word attached to the word before it, the first to
    ROOT) or the right chain (each word to the word after it, the last to ROOT)."""
    if direction == "left":
        return np.arange(n)
    return np.r_[np.arange(2, n + 1), 0]


def _chain_predictions(arc_labels: np.ndarray, direction: str, rel: int) -> np.ndarray:
    """Chain heads and the relation `rel` for the words of each sentence, as parser predictions `[N, L, 4]`."""
    positions = np.arange(arc_labels.shape[1])
    # words per sentence, counted as decode_parses counts them
    counts = np.where(arc_labels != IGNORE_INDEX, positions + 1, 0).max(-1)
    heads = np.full(arc_labels.shape, IGNORE_INDEX, dtype=np.int64)
    for b, n in enumerate(counts):
        heads[b, :n] = chain_heads(int(n), direction)
    rels = np.where(heads == IGNORE_INDEX, IGNORE_INDEX, rel)
    return np.stack([heads, rels, heads, rels], axis=-1)


def _chain_uas(sentences: Sequence[Sentence], direction: str) -> float:
    words = sum(len(s.heads) for s in sentences)
    right = sum(int((np.asarray(s.heads) == chain_heads(len(s.heads), direction)).sum()) for s in sentences)
    return 100.0 * right / max(words, 1)


def chain_baseline(
    arc_labels: np.ndarray, rel_labels: np.ndarray, train: Sequence[Sentence] | None, labels: list[str]
) -> Baseline:
    """UAS/LAS of the better of the left and right chain with the most frequent relation for every word (the MST
    keys too: a chain is a tree). Direction and relation are chosen on `train`, else on the gold `[N, L]` arcs."""
    arc_labels, rel_labels = np.asarray(arc_labels), np.asarray(rel_labels)
    from_eval = not train
    if not train:
        rel = majority_id(rel_labels, len(labels))
        uas = {
            d: parsing_metrics(_chain_predictions(arc_labels, d, rel), arc_labels, rel_labels)["uas"]
            for d in ("left", "right")
        }
    else:
        label2id = {label: i for i, label in enumerate(labels)}
        rel = majority_id([label2id[r] for s in train for r in s.rels], len(labels))
        uas = {d: _chain_uas(train, d) for d in ("left", "right")}
    direction = "right" if uas["right"] > uas["left"] else "left"
    other = "left" if direction == "right" else "right"
    metrics = parsing_metrics(_chain_predictions(arc_labels, direction, rel), arc_labels, rel_labels)
    metrics.pop("words")
    where = fitted_on(from_eval)
    description = (
        f"{direction} chain (UAS {uas[direction]:.1f} vs {uas[other]:.1f} for the {other} chain on {where}), "
        f"every relation {labels[rel]!r} (the most frequent in {where})"
    )
    return Baseline(metrics, description, from_eval)


@dataclass
class ParsingTask(Task):
    """`ud`: dependency parsing with `PIXELForBiaffineParsing`; best model on `las`."""

    name: str = "ud"
    model_class_name: str = "PIXELForBiaffineParsing"
    metric_for_best_model: str = "las"
    default_max_seq_length: int = 256
    score_dropped_words: bool = False  # True: the published behaviour (see the module docstring)
    decoding: str = "mst"  # what write_predictions writes: "mst" (well-formed trees) or "argmax"

    def find_split(self, data_dir: Path, split: str) -> Path:
        return find_treebank_split(data_dir, split)

    def read(self, path: Path) -> list[Sentence]:
        return read_conllu(path, trees=True)

    def read_for_prediction(self, path: Path) -> list[Sentence]:
        """Sentences to parse need no gold tree: a tagger's output (HEAD `_`) can be parsed too."""
        return read_conllu(path, trees=False)

    def labels(self, data_dir: Path | None = None, label_file: Path | None = None) -> list[str]:
        return list(UD_HEAD_LABELS)

    def dataset(
        self, examples: Sequence[Sentence], processor: PIXELProcessor, labels: list[str]
    ) -> RenderedDataset:
        check_labels(examples, "rels", labels)
        label2id = {r: i for i, r in enumerate(labels)}
        return RenderedDataset(
            examples, ArcEncoder(processor, label2id, score_dropped_words=self.score_dropped_words)
        )

    def collator(self, processor: PIXELProcessor) -> EncodingCollator:
        """Batches with the parser's `word_starts [B, L+1]`."""
        from pixel.data.processor import EncodingCollator

        return EncodingCollator(processor.max_seq_length, return_word_starts=True)

    def preprocess_logits_for_metrics(self, logits: Any, labels: Any) -> torch.Tensor:
        return decode_parses(logits, labels)

    def compute_metrics(self, eval_pred: Any) -> dict[str, float]:
        arc_labels, rel_labels = _labels_tuple(eval_pred.label_ids)
        return parsing_metrics(
            np.asarray(eval_pred.predictions), np.asarray(arc_labels), np.asarray(rel_labels)
        )

    def baseline(
        self, gold: Any, dataset: RenderedDataset, train: Sequence[Sentence] | None, labels: list[str]
    ) -> Baseline:
        arc_labels, rel_labels = _labels_tuple(gold)
        return chain_baseline(np.asarray(arc_labels), np.asarray(rel_labels), train, labels)

    def predicted_classes(self, predictions: Any, gold: Any) -> np.ndarray:
        """The relation predicted (argmax decoding) for every word: one relation for all is a collapse."""
        predictions = np.asarray(predictions)
        return predictions[..., ARGMAX_REL][predictions[..., ARGMAX_HEAD] != IGNORE_INDEX]

    def write_predictions(
        self, examples: Sequence[Sentence], predictions: np.ndarray, labels: list[str], path: Path
    ) -> None:
        """CoNLL-U with predicted HEAD/DEPREL; `predictions` are `decode_parses` outputs `[N, L, 4]`."""
        head_channel, rel_channel = (
            (MST_HEAD, MST_REL) if self.decoding == "mst" else (ARGMAX_HEAD, ARGMAX_REL)
        )
        heads, rels = [], []
        predictions = np.asarray(predictions)
        if len(predictions) != len(examples):
            raise ValueError(f"{len(predictions)} prediction rows for {len(examples)} sentences")
        for row in predictions:
            n = int((row[:, head_channel] != IGNORE_INDEX).sum())
            # argmax heads may point at padding; those words are attached to ROOT
            row_heads = [int(h) if h <= n else 0 for h in row[:n, head_channel]]
            heads.append(row_heads)
            rels.append([labels[int(r)] for r in row[:n, rel_channel]])
        write_conllu(examples, heads, rels, path)

    def encode_raw(self, text: str, line: int = 1, source: str = "<input>") -> Sentence:
        return raw_sentence(text, line, source)


@dataclass
class POSTask(Task):
    """`pos`: UPOS tagging from the same CoNLL-U files with `PIXELForTokenClassification`; best on `accuracy`."""

    name: str = "pos"
    model_class_name: str = "PIXELForTokenClassification"
    metric_for_best_model: str = "accuracy"
    default_max_seq_length: int = 256

    def find_split(self, data_dir: Path, split: str) -> Path:
        return find_treebank_split(data_dir, split)

    def read(self, path: Path) -> list[Sentence]:
        return read_conllu(path, trees=False)  # UPOS only: see pixel.tasks.treebank

    def labels(self, data_dir: Path | None = None, label_file: Path | None = None) -> list[str]:
        return list(UPOS_LABELS)

    def dataset(
        self, examples: Sequence[Sentence], processor: PIXELProcessor, labels: list[str]
    ) -> RenderedDataset:
        check_labels(examples, "upos", labels)
        label2id = {t: i for i, t in enumerate(labels)}
        return RenderedDataset(examples, WordTagEncoder(processor, label2id, tag_attr="upos"))

    def preprocess_logits_for_metrics(self, logits: Any, labels: Any) -> torch.Tensor:
        from pixel.tasks.tagging import token_logits_to_word_predictions

        return token_logits_to_word_predictions(logits, labels)

    def compute_metrics(self, eval_pred: Any) -> dict[str, float]:
        """UPOS accuracy (a fraction, as the published POS evaluation) over the kept words."""
        label_ids = np.asarray(eval_pred.label_ids)
        gold = compact_words_np(label_ids, label_ids != IGNORE_INDEX)
        predictions = np.asarray(eval_pred.predictions)
        scored = gold != IGNORE_INDEX
        words = int(scored.sum())
        correct = int(((predictions == gold) & scored).sum())
        return {"accuracy": correct / max(words, 1), "words": words}

    def baseline(
        self, gold: Any, dataset: RenderedDataset, train: Sequence[Sentence] | None, labels: list[str]
    ) -> Baseline:
        """The train split's most frequent UPOS tag for every word."""
        label_ids = np.asarray(gold)
        words = compact_words_np(label_ids, label_ids != IGNORE_INDEX)
        top, from_eval = majority_tag(train, "upos", labels, words)
        scored = words[words != IGNORE_INDEX]
        accuracy = float((scored == top).sum()) / max(scored.size, 1)
        description = f"majority tag {labels[top]!r} of {fitted_on(from_eval)} for every word"
        return Baseline({"accuracy": accuracy}, description, from_eval)

    def predicted_classes(self, predictions: Any, gold: Any) -> np.ndarray:
        return scored_predictions(predictions)

    def write_predictions(
        self, examples: Sequence[Sentence], predictions: np.ndarray, labels: list[str], path: Path
    ) -> None:
        """CoNLL-U with predicted UPOS; HEAD/DEPREL as read (`_` for raw text: a tagger predicts no tree). Words
        dropped by truncation get `Truncated=Yes`."""
        upos = [[labels[int(p)] for p in row if p != IGNORE_INDEX] for row in np.asarray(predictions)]
        write_conllu(examples, None, None, path, upos=upos)

    def encode_raw(self, text: str, line: int = 1, source: str = "<input>") -> Sentence:
        return raw_sentence(text, line, source)


def raw_sentence(text: str, line: int, source: str) -> Sentence:
    """Raw line `line` of `source`, whitespace-tokenised; `# sent_id` is the line number (to join back to the
    input), `# text` the line with each run of whitespace as one space (CoNLL-U's text must match the words)."""
    words = text.split()
    return sentence_from_words(words, sent_id=str(line), text=" ".join(words), source=source, line=line)
