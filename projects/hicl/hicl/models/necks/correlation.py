"""The correlation necks (paper 3.2.2-3.2.3): transformers over the sampled point features f (in CLIP space).

The intra-scene neck lets the sampled points of ONE scene attend to each other (Eq. 3); the inter-scene neck
lets the sampled points of ALL scenes of the batch (and, distributed, of all ranks) attend to each other
(Eq. 7). Their outputs are classified against the text anchors with the refined labels (Eq. 4, in the
segmentor).
"""
import torch
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import nn

from .rank_gather import gather_sequences


class CorrelationBlock(nn.Module):
    """One pre-norm ViT block over T tokens of D channels, Eq. 3:

        f~_m = f_m + sum_n w_mn v_n      (w = softmax(q k^T / sqrt(d)) of the layer-normed tokens, per head)
        f^_m = f~_m + MLP(LN(f~_m))

    Args:
        embed_dims: D.
        num_heads: attention heads (D must divide by it).
        mlp_ratio: hidden width of the MLP as a multiple of D.
    """

    def __init__(self, embed_dims, num_heads=8, mlp_ratio=4.0):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by num_heads={num_heads}')
        self.num_heads = num_heads
        self.norm_attn = nn.LayerNorm(embed_dims)
        self.qkv = nn.Linear(embed_dims, 3 * embed_dims)
        self.attn_out = nn.Linear(embed_dims, embed_dims)
        self.norm_mlp = nn.LayerNorm(embed_dims)
        hidden = int(embed_dims * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(embed_dims, hidden), nn.GELU(), nn.Linear(hidden, embed_dims))

    def _heads(self, tokens):
        """(T, D) -> q, k, v each (H, T, D / H)."""
        qkv = self.qkv(self.norm_attn(tokens)).unflatten(-1, (3, self.num_heads, -1))
        return qkv.permute(1, 2, 0, 3).unbind(0)

    def attention_weights(self, tokens):
        """(T, D) tokens -> (H, T, T) w_mn of Eq. 3 (rows sum to 1), for inspection."""
        q, k, _ = self._heads(tokens)
        return torch.softmax(q @ k.transpose(1, 2) / q.shape[-1]**0.5, dim=-1)

    def forward(self, tokens):
        """(T, D) -> (T, D)."""
        q, k, v = self._heads(tokens)
        attended = F.scaled_dot_product_attention(q, k, v)  # sum_n w_mn v_n per head: (H, T, D / H)
        tokens = tokens + self.attn_out(attended.transpose(0, 1).flatten(1))
        return tokens + self.mlp(self.norm_mlp(tokens))


class CorrelationTransformer(nn.Module):
    """``num_layers`` correlation blocks on (T, in_dims) tokens, output (T, in_dims).

    With ``embed_dims`` below ``in_dims`` the blocks run in a narrower space: f^ = f + W_out(blocks(W_in f))
    (a cheaper variant for CPU runs); with ``zero_init_output`` W_out starts at zero, so that the module starts
    as the identity, else with PyTorch's default Linear initialisation.
    """

    def __init__(self, in_dims=512, embed_dims=None, num_layers=3, num_heads=8, mlp_ratio=4.0,
                 zero_init_output=True):
        super().__init__()
        embed_dims = embed_dims or in_dims
        self.blocks = nn.Sequential(*[CorrelationBlock(embed_dims, num_heads, mlp_ratio) for _ in range(num_layers)])
        self.narrow = embed_dims != in_dims
        if self.narrow:
            self.project_in = nn.Linear(in_dims, embed_dims)
            self.project_out = nn.Linear(embed_dims, in_dims)
            if zero_init_output:
                nn.init.zeros_(self.project_out.weight)
                nn.init.zeros_(self.project_out.bias)

    def forward(self, features):
        """(T, in_dims) -> (T, in_dims)."""
        if self.narrow:
            return features + self.project_out(self.blocks(self.project_in(features)))
        return self.blocks(features)

    @torch.no_grad()
    def attention_maps(self, features):
        """(T, in_dims) -> list of the (H, T, T) attention weights of every layer, for the instruments."""
        tokens = self.project_in(features) if self.narrow else features
        maps = []
        for block in self.blocks:
            maps.append(block.attention_weights(tokens))
            tokens = block(tokens)
        return maps


@MODELS.register_module()
class IntraSceneCorrelationNeck(nn.Module):
    """Intra-scene correlation (Eq. 3): each scene's sampled point features pass the transformer separately,
    so attention never crosses scenes.

    Args:
        transformer: arguments of :class:`CorrelationTransformer` (default: 3 ViT blocks at 512 channels).
    """

    def __init__(self, transformer=None):
        super().__init__()
        self.transformer = CorrelationTransformer(**(transformer or {}))

    def forward(self, scene_features):
        """List of B (M_b, D) sampled point features -> list of B (M_b, D) correlated features f^."""
        return [self.transformer(features) for features in scene_features]

    def attention_maps(self, scene_features):
        """The attention of every layer over all T = sum M_b tokens: a list of (H, T, T) maps, zero across scenes,
        and the (T,) sequence (scene) of every token."""
        per_scene = [self.transformer.attention_maps(features) for features in scene_features]
        maps = [torch.stack([torch.block_diag(*heads) for heads in zip(*layer)]) for layer in zip(*per_scene)]
        sequences = torch.cat([torch.full((len(x), ), b, device=x.device) for b, x in enumerate(scene_features)])
        return maps, sequences


@MODELS.register_module()
class InterSceneCorrelationNeck(nn.Module):
    """Inter-scene correlation (Eq. 7): the sampled point features of all scenes of the batch form ONE token
    sequence, so attention spans scenes.

    Args:
        gather_across_ranks: under distributed training, the sequence also holds the other ranks' points
            (gradients flow back to each rank's own points), so a distributed batch behaves like one large
            batch. Beyond the paper; set False for per-rank sequences.
        transformer: arguments of :class:`CorrelationTransformer` (default: 3 ViT blocks at 512 channels).
    """

    def __init__(self, transformer=None, gather_across_ranks=True):
        super().__init__()
        self.gather_across_ranks = gather_across_ranks
        self.transformer = CorrelationTransformer(**(transformer or {}))

    def forward(self, scene_features):
        """List of B (M_b, D) sampled point features -> list of B (M_b, D) correlated features."""
        local = torch.cat(scene_features)
        if self.gather_across_ranks:
            tokens, (start, end) = gather_sequences(local)
        else:
            tokens, (start, end) = local, (0, len(local))
        correlated = self.transformer(tokens)[start:end]
        return list(correlated.split([len(features) for features in scene_features]))

    def attention_maps(self, scene_features):
        """The attention of every layer over this rank's T = sum M_b tokens (under distributed training the
        other ranks' tokens are left out): a list of (H, T, T) maps, and the (T,) sequence of every token (all
        0, one sequence)."""
        local = torch.cat(scene_features)
        return self.transformer.attention_maps(local), torch.zeros(len(local), dtype=torch.long, device=local.device)
