"""Finetuning tasks: one module per task (reader, encoder, decode, metrics, writer) behind the `Task` interface.

`get_task(name)` returns the task for "ud", "pos", "ner", "sib", "classification", "pair_classification" or "qa".
"""

from pixel.tasks.base import TASK_NAMES, RenderedDataset, Task, TruncationReport, get_task

__all__ = ["TASK_NAMES", "RenderedDataset", "Task", "TruncationReport", "get_task"]
