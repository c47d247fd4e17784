"""`PIXELForBiaffineParsing`: the published biaffine dependency parser on PIXEL (spec §2.5, §2.7), plus an opt-in
Dozat-Manning MLP variant and MST decoding."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.utils import ModelOutput

from .backbone import PIXELModel, PIXELPreTrainedModel
from .biaffine import MLP, Biaffine, mst_decode, pool_words
from .configuration import PIXELConfig

__all__ = ["DependencyParsingModelOutput", "PIXELForBiaffineParsing"]

IGNORE_INDEX = -100
PARSER_MLP_DROPOUT = 0.33  # Dozat & Manning (2017)


@dataclass
class DependencyParsingModelOutput(ModelOutput):
    """arc_logits (B, L, L + 1): word i x head j (0 = ROOT); rel_logits (B, L, L + 1, R)."""

    loss: torch.Tensor | None = None
    arc_logits: torch.Tensor | None = None
    rel_logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


class PIXELForBiaffineParsing(PIXELPreTrainedModel):
    """Word vectors = mean of their patches; ROOT = pooled CLS (dense + tanh); biaffine arc scorer `[1, D+1, D]` and
    relation scorer `[R, D+1, D+1]`, zero-initialised, so the first loss is ln(L + 1) + ln(R).

    `config.biaffine_mlp` adds Dozat-Manning arc/rel MLPs (new weights; off = published). `config.parser_decoding`
    chooses `decode`'s tree algorithm ("argmax" as published, or "mst").
    """

    # the published parser inherits an unused `classifier` Linear(D, num_labels) from ViTForImageClassification
    _keys_to_ignore_on_load_unexpected = [r"^decoder\.", r"^classifier\."]

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        assert config.num_labels is not None  # PretrainedConfig sets id2label (2 labels by default)
        self.num_labels = config.num_labels
        self.vit = PIXELModel(config, add_pooling_layer=True)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        arc_dim = rel_dim = config.hidden_size
        if config.biaffine_mlp:
            arc_dim, rel_dim = config.arc_mlp_size, config.rel_mlp_size
            self.arc_mlp_dep = MLP(config.hidden_size, arc_dim, PARSER_MLP_DROPOUT)
            self.arc_mlp_head = MLP(config.hidden_size, arc_dim, PARSER_MLP_DROPOUT)
            self.rel_mlp_dep = MLP(config.hidden_size, rel_dim, PARSER_MLP_DROPOUT)
            self.rel_mlp_head = MLP(config.hidden_size, rel_dim, PARSER_MLP_DROPOUT)
        self.biaffine_arcs = Biaffine(arc_dim, n_out=1, bias_x=True, bias_y=False)
        self.biaffine_rels = Biaffine(rel_dim, n_out=config.num_labels, bias_x=True, bias_y=True)
        self.post_init()

    def score(self, deps: torch.Tensor, heads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """deps (B, L, D), heads (B, L + 1, D) -> arc (B, L, L + 1), rel (B, L, L + 1, R)."""
        if self.config.biaffine_mlp:
            arc = self.biaffine_arcs(self.arc_mlp_dep(deps), self.arc_mlp_head(heads))
            rel = self.biaffine_rels(self.rel_mlp_dep(deps), self.rel_mlp_head(heads))
        else:
            arc = self.biaffine_arcs(deps, heads)
            rel = self.biaffine_rels(deps, heads)
        return arc, rel.permute(0, 2, 3, 1)

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        word_starts: torch.Tensor | None = None,
        arc_labels: torch.Tensor | None = None,
        rel_labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> DependencyParsingModelOutput | tuple:
        """word_starts (B, L + 1) -100 padded; arc_labels (B, L) gold head per word (0 = ROOT, -100 = none);
        rel_labels (B, L)."""
        if word_starts is None:
            raise ValueError("PIXELForBiaffineParsing needs word_starts (B, L + 1), -100 padded")
        encoded = self.vit(
            pixel_values,
            attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        patches = self.dropout(encoded.last_hidden_state[:, 1:])  # (B, L, D)
        deps = pool_words(patches, word_starts, IGNORE_INDEX)  # (B, L, D), zero rows past the last word
        heads = torch.cat([encoded.pooler_output.unsqueeze(1), deps], dim=1)  # (B, L + 1, D), ROOT first
        arc_logits, rel_logits = self.score(deps, heads)
        loss = None
        if arc_labels is not None and rel_labels is not None:
            loss = self.parsing_loss(arc_logits, rel_logits, arc_labels, rel_labels)
        output = DependencyParsingModelOutput(
            loss=loss,
            arc_logits=arc_logits,
            rel_logits=rel_logits,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
        )
        return output if return_dict is not False else output.to_tuple()

    @staticmethod
    def parsing_loss(
        arc_logits: torch.Tensor, rel_logits: torch.Tensor, arc_labels: torch.Tensor, rel_labels: torch.Tensor
    ) -> torch.Tensor:
        """CE over heads for words with a gold head + CE over relations scored at the gold head. Padded heads stay
        legal candidates (published)."""
        scored = arc_labels != IGNORE_INDEX  # (B, L)
        arcs = arc_labels[scored]  # (N,)
        arc_loss = nn.functional.cross_entropy(arc_logits[scored], arcs)
        rel_at_gold = rel_logits[scored][torch.arange(len(arcs), device=arcs.device), arcs]  # (N, R)
        rel_loss = nn.functional.cross_entropy(rel_at_gold, rel_labels[scored])
        return arc_loss + rel_loss

    @torch.no_grad()
    def decode(
        self, arc_logits: torch.Tensor, rel_logits: torch.Tensor, num_words: torch.Tensor | list[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Heads (B, L) and relations (B, L) for the first `num_words[b]` words (-100 after).

        `config.parser_decoding`: "argmax" per word over all L + 1 candidates (published), or "mst": a well-formed
        tree with one root over the sentence's own words. Relations are the argmax at the predicted head.
        """
        batch, length = arc_logits.shape[:2]
        counts = [int(n) for n in (num_words.tolist() if isinstance(num_words, torch.Tensor) else num_words)]
        if self.config.parser_decoding == "mst":
            heads = torch.zeros(batch, length, dtype=torch.long, device=arc_logits.device)
            for b, n in enumerate(counts):  # per sentence: CLE is inherently sequential
                heads[b, :n] = torch.from_numpy(mst_decode(arc_logits[b, :n, : n + 1]))
        else:
            heads = arc_logits.argmax(-1)
        index = heads[..., None, None].expand(-1, -1, 1, rel_logits.shape[-1])
        rels = torch.gather(rel_logits, 2, index).squeeze(2).argmax(-1)  # (B, L)
        beyond = (
            torch.arange(length, device=heads.device)[None, :]
            >= torch.as_tensor(counts, device=heads.device)[:, None]
        )
        return heads.masked_fill(beyond, IGNORE_INDEX), rels.masked_fill(beyond, IGNORE_INDEX)
