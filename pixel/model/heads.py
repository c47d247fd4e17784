"""Task heads on the PIXEL encoder (spec §2.5): sequence classification, token classification, extractive QA.
The dependency parser is in `parsing.py`. Every head loads a pretraining checkpoint (decoder keys ignored, head weights
reported as new) and the published finetuned checkpoints with zero missing keys."""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_outputs import (
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

from .backbone import PIXELModel, PIXELPreTrainedModel, resolve_attention_mask
from .configuration import PIXELConfig
from .pooling import PoolingForSequenceClassificationHead, PoolingMode

__all__ = ["PIXELForQuestionAnswering", "PIXELForSequenceClassification", "PIXELForTokenClassification"]

IGNORE_INDEX = -100


def sequence_classification_loss(
    config: PIXELConfig, logits: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """MSE for regression, CE for single-label, BCE-with-logits for multi-label; `problem_type` inferred as in HF and
    recorded in the config."""
    if config.problem_type is None:
        if config.num_labels == 1:
            config.problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            config.problem_type = "single_label_classification"
        else:
            config.problem_type = "multi_label_classification"
    if config.problem_type == "regression":
        return nn.functional.mse_loss(logits.squeeze(-1), labels.squeeze(-1).to(logits.dtype))
    if config.problem_type == "single_label_classification":
        assert config.num_labels is not None  # PretrainedConfig sets id2label (2 labels by default)
        return nn.functional.cross_entropy(logits.view(-1, config.num_labels), labels.view(-1))
    return nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


class PIXELForSequenceClassification(PIXELPreTrainedModel):
    """Pooled patches -> Linear(D, num_labels). `pooling_mode` ("mean" default, "max", "cls", "pma<k>") and
    `add_layer_norm` are config fields, so `from_pretrained(path, pooling_mode="max")` records them."""

    def __init__(
        self, config: PIXELConfig, pooling_mode: str | None = None, add_layer_norm: bool | None = None
    ) -> None:
        super().__init__(config)
        assert config.num_labels is not None  # PretrainedConfig sets id2label (2 labels by default)
        if pooling_mode is not None:
            config.pooling_mode = str(pooling_mode)
        if add_layer_norm is not None:
            config.add_layer_norm = add_layer_norm
        self.pooling_mode = PoolingMode.from_string(config.pooling_mode)
        self.num_labels = config.num_labels
        is_cls = self.pooling_mode.name == "cls"
        self.vit = PIXELModel(config, add_pooling_layer=is_cls)
        if is_cls:
            self.pooler = None
            # the published head also builds the (unused) pooling MLP in CLS mode
            self._keys_to_ignore_on_load_unexpected = [*self._keys_to_ignore_on_load_unexpected, r"^pooler\."]
        else:
            self.pooler = PoolingForSequenceClassificationHead(
                config.hidden_size, config.hidden_dropout_prob, config.add_layer_norm, self.pooling_mode
            )
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple:
        """pixel_values (B, C, 16, 16 L), attention_mask (B, L), labels (B,) int / (B,) float / (B, C) multi-hot."""
        attention_mask = resolve_attention_mask(pixel_values, attention_mask, self.config.patch_size)
        encoded = self.vit(
            pixel_values,
            attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        if self.pooler is None:
            pooled = encoded.pooler_output  # (B, D) dense + tanh on CLS
        else:
            pooled = self.pooler(encoded.last_hidden_state[:, 1:], attention_mask)  # (B, D), CLS dropped
        logits = self.classifier(pooled)  # (B, num_labels)
        loss = sequence_classification_loss(self.config, logits, labels) if labels is not None else None
        output = SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=encoded.hidden_states, attentions=encoded.attentions
        )
        return output if return_dict is not False else output.to_tuple()


class PIXELForTokenClassification(PIXELPreTrainedModel):
    """Dropout -> Linear(D, num_labels) on every patch; labels sit on each word's first patch, -100 elsewhere."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        assert config.num_labels is not None  # PretrainedConfig sets id2label (2 labels by default)
        self.num_labels = config.num_labels
        self.vit = PIXELModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> TokenClassifierOutput | tuple:
        """labels (B, L) with -100 where unsupervised. Returns logits (B, L, num_labels)."""
        encoded = self.vit(
            pixel_values,
            attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        logits = self.classifier(self.dropout(encoded.last_hidden_state[:, 1:]))  # (B, L, C)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, self.num_labels), labels.reshape(-1), ignore_index=IGNORE_INDEX
            )
        output = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=encoded.hidden_states, attentions=encoded.attentions
        )
        return output if return_dict is not False else output.to_tuple()


class PIXELForQuestionAnswering(PIXELPreTrainedModel):
    """Start/end logits over the patches followed by CLS (index L), no dropout, as published."""

    # the published head inherits an unused `classifier` and ignores pooler weights of finetuned checkpoints
    _keys_to_ignore_on_load_unexpected = [r"^decoder\.", r"pooler", r"^classifier\."]

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        self.vit = PIXELModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> QuestionAnsweringModelOutput | tuple:
        """start/end_positions (B,) patch indices; L (the CLS slot) means "no answer". Logits (B, L + 1)."""
        encoded = self.vit(
            pixel_values,
            attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        hidden = encoded.last_hidden_state
        sequence = torch.cat([hidden[:, 1:], hidden[:, :1]], dim=1)  # (B, L + 1, D), CLS last
        start_logits, end_logits = self.qa_outputs(sequence).unbind(dim=-1)  # (B, L + 1) each
        loss = None
        if start_positions is not None and end_positions is not None:
            ignored = start_logits.shape[1]  # out-of-range positions are clamped here and ignored, as in HF
            start = start_positions.view(-1).clamp(0, ignored)
            end = end_positions.view(-1).clamp(0, ignored)
            loss = (
                nn.functional.cross_entropy(start_logits, start, ignore_index=ignored)
                + nn.functional.cross_entropy(end_logits, end, ignore_index=ignored)
            ) / 2
        output = QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
        )
        return output if return_dict is not False else output.to_tuple()
