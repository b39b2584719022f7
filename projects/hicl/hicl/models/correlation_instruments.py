"""What the correlation necks do, as numbers (no gradients): how much a neck changes its features, where its
attention goes, how well the net and the necks classify the sampled points (the compactness of the net's features
is :func:`hicl.metrics.feature_compactness`).

Every function takes plain tensors so that training (HICLSegmentor) and validation (CorrelationProbeHook) read
them the same way. Attention maps are (H, T, T) per layer, rows summing to 1 over the tokens a row may attend to
(for the intra-scene neck, entries across scenes are 0).
"""
import math

import torch


def relative_change(before, after):
    """||f^ - f|| / ||f|| over all tokens (Frobenius norms of the (T, D) matrices): 0 for an identity neck."""
    before, after = before.detach(), after.detach()
    return float((after - before).norm() / before.norm().clamp_min(1e-12))


def attention_entropy(weights, support):
    """Mean over heads and rows of the row entropy divided by log(row support): 1 for uniform attention over the
    tokens a row may attend to, 0 for attention on one token.

    Args:
        weights: (H, T, T) attention weights.
        support: (T,) number of tokens each row may attend to (its sequence length).
    """
    entropy = -(weights * weights.clamp_min(1e-30).log()).sum(-1)  # (H, T) nats
    normaliser = support.to(weights.dtype).log().clamp_min(1e-12)  # a one-token row has entropy 0
    return float((entropy / normaliser).mean())


def attention_mass_on_same(weights, groups):
    """Share of each row's attention on tokens of the row's own group (set, label, class), averaged over heads
    and over the rows whose group is known (>= 0); tokens of unknown group (-1) never count as the same.

    Args:
        weights: (H, T, T) attention weights.
        groups: (T,) integer group of every token, -1 for unknown.
    Returns NaN when no row has a known group.
    """
    known = groups >= 0
    same = (groups[:, None] == groups[None, :]) & known[:, None]
    mass = (weights * same).sum(-1)  # (H, T)
    return float(mass[:, known].mean()) if known.any() else math.nan


def chance_mass_on_same(groups, sequences):
    """What :func:`attention_mass_on_same` gives for UNIFORM attention within each sequence: the share of a row's
    sequence that shares its group. The reference that says whether attention concentrates.

    Args:
        groups: (T,) integer group of every token, -1 for unknown.
        sequences: (T,) sequence id of every token (the scene for the intra-scene neck, 0 for the inter-scene one).
    """
    uniform = (sequences[:, None] == sequences[None, :]).float()
    return attention_mass_on_same((uniform / uniform.sum(-1, keepdim=True))[None], groups)


def token_labels(pair_token_idx, pair_labels, num_tokens, num_classes):
    """The label of every token: the most frequent label of the pairs that supervise it (ties: the lower class
    id), -1 for a token without a labelled pair.

    Args:
        pair_token_idx: (P,) token of each pair; pair_labels: (P,) its label, in [0, num_classes) (ignored pairs
            already removed).
    Returns (num_tokens,) long.
    """
    votes = torch.zeros(num_tokens, num_classes, dtype=torch.long, device=pair_labels.device)
    votes.index_put_((pair_token_idx, pair_labels), torch.ones_like(pair_labels), accumulate=True)
    labels = votes.argmax(-1)
    labels[votes.sum(-1) == 0] = -1
    return labels


def accuracy(logits, labels):
    """Share of the tokens with a label (>= 0) whose argmax class is that label; NaN without labelled tokens."""
    known = labels >= 0
    return float((logits[known].argmax(-1) == labels[known]).float().mean()) if known.any() else math.nan


def agreement(logits_a, logits_b):
    """Share of tokens on which two (T, C) logits pick the same class."""
    return float((logits_a.argmax(-1) == logits_b.argmax(-1)).float().mean())


def neck_instruments(short_name, neck, inputs, outputs, groups, logits, labels):
    """The instruments of one neck, named ``<short_name>_...`` (and ``acc_<short_name>``).

    Args:
        neck: the neck (for its attention maps); inputs, outputs: its lists of B (M_b, D) token features.
        groups: maps a group name (set, label, class) to the (T,) group of every token (-1: unknown).
        logits: (T, C) logits of the outputs; labels: (T,) the class each token should get (-1: unknown).
    """
    stats = {f'{short_name}_change': relative_change(torch.cat(inputs), torch.cat(outputs)),
             f'acc_{short_name}': accuracy(logits, labels)}
    maps, sequences = neck.attention_maps(inputs)
    support = torch.bincount(sequences)[sequences]
    for group, token_group in groups.items():
        stats[f'{short_name}_chance_{group}'] = chance_mass_on_same(token_group, sequences)
    for layer, weights in enumerate(maps):
        stats[f'{short_name}_entropy_l{layer}'] = attention_entropy(weights, support)
        for group, token_group in groups.items():
            stats[f'{short_name}_same_{group}_l{layer}'] = attention_mass_on_same(weights, token_group)
    return {name: value for name, value in stats.items() if not math.isnan(value)}
