"""Biaffine scorers, word pooling over patches and tree decoding for dependency parsing (spec §2.5).

`Biaffine` follows the published layer (from yzhangcs/biaffine-parser): zero-initialised weight
`[n_out, n_in + bias_x, n_in + bias_y]`, score = x W y with a ones column appended for each bias.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from transformers import initialization as init

__all__ = ["MLP", "Biaffine", "chu_liu_edmonds", "mst_decode", "pool_words"]


class Biaffine(nn.Module):
    def __init__(self, n_in: int, n_out: int = 1, bias_x: bool = True, bias_y: bool = True) -> None:
        super().__init__()
        self.n_in, self.n_out, self.bias_x, self.bias_y = n_in, n_out, bias_x, bias_y
        self.weight = nn.Parameter(torch.zeros(n_out, n_in + bias_x, n_in + bias_y))

    def init_pixel_parameters(self, std: float) -> None:
        init.zeros_(self.weight)

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}, bias_x={self.bias_x}, bias_y={self.bias_y}"

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x (B, X, n_in) dependents, y (B, Y, n_in) heads -> (B, n_out, X, Y), or (B, X, Y) when n_out == 1."""
        if self.bias_x:
            x = torch.cat([x, x.new_ones(*x.shape[:-1], 1)], dim=-1)
        if self.bias_y:
            y = torch.cat([y, y.new_ones(*y.shape[:-1], 1)], dim=-1)
        scores = torch.einsum("bxi,oij,byj->boxy", x, self.weight, y)
        # squeeze only the n_out dim, so a batch of one keeps its batch dim (the published squeeze() dropped it)
        return scores.squeeze(1) if self.n_out == 1 else scores


class MLP(nn.Module):
    """Dozat & Manning's dimension-reducing projection: Linear -> LeakyReLU(0.1) -> Dropout."""

    def __init__(self, n_in: int, n_out: int, dropout: float) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.activation = nn.LeakyReLU(0.1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.activation(self.linear(x)))


def pool_words(patches: torch.Tensor, word_starts: torch.Tensor, pad_id: int = -100) -> torch.Tensor:
    """Word vectors as the mean of their patches, vectorised over batch and words.

    patches (B, L, D); word_starts (B, L + 1) first patch of each word then the EOS patch, padded with `pad_id`.
    Word w spans patches [start_w, start_{w+1}); an empty span (start == next) takes the single patch at start.
    Pairs stop at the first padding entry or non-positive end, as published. Returns (B, L, D); rows past the last
    word are exact zeros.
    """
    batch, length, _ = patches.shape
    starts, ends = word_starts[:, :-1], word_starts[:, 1:]  # (B, L) each
    valid = (starts != pad_id) & (ends != pad_id) & (ends > 0)
    valid = torch.cumprod(valid.to(torch.int64), dim=1).bool()  # stop at the first invalid pair
    starts = starts.clamp(0, length - 1)
    ends = torch.maximum(ends.clamp(0, length), starts + 1)  # single patch when start == end
    positions = torch.arange(length, device=patches.device)
    members = (positions >= starts[..., None]) & (positions < ends[..., None]) & valid[..., None]  # (B, W, L)
    members = members.to(patches.dtype)
    counts = members.sum(-1, keepdim=True).clamp(min=1)  # (B, W, 1)
    return torch.bmm(members, patches) / counts  # (B, W, D)


def _find_cycle(heads: np.ndarray) -> np.ndarray | None:
    """A cycle of the functional graph dependent -> head (node 0 has no head), or None."""
    state = np.zeros(len(heads), dtype=np.int8)  # 0 unseen, 1 on the current path, 2 done
    state[0] = 2
    for start in range(1, len(heads)):
        path = []
        node = start
        while state[node] == 0:
            state[node] = 1
            path.append(node)
            node = heads[node]
        if state[node] == 1:
            return np.asarray(path[path.index(node) :])
        state[path] = 2
    return None


def chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """Maximum spanning arborescence rooted at node 0 (Chu-Liu/Edmonds).

    scores (N, N): scores[d, h] of head h for dependent d; row 0 is ignored. Returns heads (N,) with heads[0] = -1.
    Several dependents of the root are allowed; see `mst_decode` for the single-root constraint.
    """
    n = len(scores)
    scores = scores.astype(np.float64, copy=True)
    np.fill_diagonal(scores, -np.inf)
    scores[0] = -np.inf
    heads = scores.argmax(1)
    heads[0] = -1
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    in_cycle = np.zeros(n, dtype=bool)
    in_cycle[cycle] = True
    rest = np.where(~in_cycle)[0]  # includes the root 0
    cycle_score = scores[cycle, heads[cycle]]  # (C,)
    # entering the cycle at node c from head h replaces c's cycle arc
    enter = scores[cycle][:, rest] - cycle_score[:, None]  # (C, R)
    best_entry = enter.argmax(0)  # (R,) which cycle node each outside head would enter
    # leaving: outside dependent d takes its best head inside the cycle
    leave = scores[rest][:, cycle]  # (R, C)
    best_exit = leave.argmax(1)  # (R,)
    m = len(rest)
    contracted = np.full((m + 1, m + 1), -np.inf)
    contracted[:m, :m] = scores[np.ix_(rest, rest)]
    contracted[:m, m] = leave[np.arange(m), best_exit]
    contracted[m, :m] = enter[best_entry, np.arange(m)]
    sub = chu_liu_edmonds(contracted)
    result = heads.copy()
    for i, node in enumerate(rest[1:], start=1):  # outside dependents
        h = sub[i]
        result[node] = cycle[best_exit[i]] if h == m else rest[h]
    h = sub[m]  # the head outside the cycle that the contracted node hangs on
    result[cycle[best_entry[h]]] = rest[h]
    return result


def mst_decode(scores: np.ndarray | torch.Tensor) -> np.ndarray:
    """Best well-formed dependency tree with exactly one root.

    scores (n, n + 1): word i (0-based) x head j (0 = ROOT, j = word j). Arc scores are log-softmax normalised per
    word. If the unconstrained tree has several root dependents, each of them is tried as the only root and the
    best-scoring tree is kept. Returns heads (n,) in 0..n.
    """
    scores = np.asarray(
        scores.detach().float().cpu() if isinstance(scores, torch.Tensor) else scores, dtype=np.float64
    )
    n = scores.shape[0]
    if scores.shape != (n, n + 1):
        raise ValueError(f"mst_decode expects scores of shape (n, n + 1), got {scores.shape}")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    log_probs = scores - scores.max(1, keepdims=True)
    log_probs = log_probs - np.log(np.exp(log_probs).sum(1, keepdims=True))
    full = np.full((n + 1, n + 1), -np.inf)
    full[1:] = log_probs
    heads = chu_liu_edmonds(full)
    roots = np.where(heads[1:] == 0)[0] + 1
    if len(roots) > 1:
        best, best_score = heads, -np.inf
        for root in roots:
            constrained = full.copy()
            constrained[:, 0] = -np.inf
            constrained[root, 0] = full[root, 0]
            tree = chu_liu_edmonds(constrained)
            total = full[np.arange(1, n + 1), tree[1:]].sum()
            if total > best_score:
                best, best_score = tree, total
        heads = best
    return heads[1:].astype(np.int64)
