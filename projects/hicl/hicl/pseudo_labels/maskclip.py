"""MaskCLIP pixel pseudo-labels (paper 3.1): dense CLIP features of a frozen ViT, matched to the text anchors.

MaskCLIP reads dense features out of CLIP's image tower without training: in the LAST transformer block the
query-key attention is skipped and every token keeps only its own value, v = W_v ln_1(x) + b_v, which goes
through the attention output projection, the residual, the block's MLP (with residual), ln_post and the visual
projection. Each patch token then carries a D-dim feature in the text-embedding space; its label is the text
anchor with the largest cosine similarity. Images are CLIP mean/std normalised (the prior code's omission) and
the patch-grid position embeddings are bicubically resized to the input's patch grid.

MaskCLIP's two optional refinements are here, off by default, applied in MaskCLIP's order: prompt denoising
(:func:`prompt_denoise`), then key smoothing (:func:`key_smoothing`, as MaskCLIP's code computes it).
"""
import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..registry import PSEUDO_LABELLERS
from .anchors import anchors_hash, read_text_anchor_file
from .labeller import PseudoLabeller

RANDOM_WEIGHTS = (None, 'none')
RANDOM_WEIGHTS_SEED = 0  # the random-weight tower is drawn from this seed, so its labels are reproducible


def resized_positional_embedding(positional_embedding, native_grid, grid):
    """Position embeddings for a patch grid of another size.

    positional_embedding: (1 + gh * gw, W), the class position first, then the (gh, gw) = native_grid patch
    positions row-major; grid: (h, w) patches. Returns (1 + h * w, W): the class position unchanged and the patch
    positions bicubically resized (the input itself when the grid is the native one).
    """
    if tuple(grid) == tuple(native_grid):
        return positional_embedding
    class_position, patch_positions = positional_embedding[:1], positional_embedding[1:]
    width = positional_embedding.shape[1]
    patch_map = patch_positions.reshape(1, *native_grid, width).permute(0, 3, 1, 2)
    resized = F.interpolate(patch_map, size=tuple(grid), mode='bicubic', align_corners=False)
    return torch.cat([class_position, resized.permute(0, 2, 3, 1).reshape(-1, width)])


def dense_logits(features, anchors):
    """Cosine logits of every token with every class: (B, D, h, w) features x (C, D) anchors -> (B, C, h, w)."""
    return torch.einsum('bdhw,cd->bchw', features, anchors)


def candidate_classes(logits, threshold=0.5, temperature=100.0):
    """MaskCLIP prompt denoising: (B, C, h, w) logits -> (B, C) bool, the classes kept for each image.

    A class is dropped when its largest softmax(temperature * logits) probability (over classes) anywhere in the
    image is below ``threshold``; when that would drop every class of an image, all are kept.
    """
    peak_probability = (temperature * logits).softmax(dim=1).amax(dim=(2, 3))
    keep = peak_probability >= threshold
    return keep | ~keep.any(dim=1, keepdim=True)


def prompt_denoise(logits, threshold=0.5, temperature=100.0):
    """(B, C, h, w) logits with the classes dropped by ``candidate_classes`` set to -100, as MaskCLIP does (finite,
    so upsampling stays defined; after softmax(100 * logits) their probability is 0)."""
    keep = candidate_classes(logits, threshold, temperature)
    return logits.masked_fill(~keep[:, :, None, None], -100.0)


def key_smoothing(logits, keys, threshold=0.5, temperature=100.0):
    """MaskCLIP key smoothing, as its code computes it: (B, C, h, w) token logits -> (B, C, h, w) class
    probabilities.

    p = softmax(temperature * logits) over the classes; the keys (B, K, h, w) of the last block, passed through its
    attention output projection (:meth:`MaskCLIPDenseFeatures.keys`), are L2-normalised as MaskCLIP does
    (``F.normalize(k, p=2)`` on (B, N, K) keys: along its default dim 1, i.e. each key channel over the N token
    positions); the affinity A = k k^T (B, N, N) is used as it is (no threshold, no row normalisation); tokens
    whose largest probability is below ``threshold`` take the rows of A p, the others keep p.
    """
    probabilities = (temperature * logits).softmax(dim=1).flatten(2).transpose(1, 2)  # (B, N, C)
    unit_keys = F.normalize(keys.flatten(2).transpose(1, 2), p=2, dim=1)  # (B, N, K), over the positions
    voted = (unit_keys @ unit_keys.transpose(1, 2)) @ probabilities  # (B, N, C)
    unsure = probabilities.amax(dim=2, keepdim=True) < threshold
    smoothed = torch.where(unsure, voted, probabilities)
    return smoothed.transpose(1, 2).reshape(logits.shape)


class MaskCLIPDenseFeatures(nn.Module):
    """Frozen MaskCLIP dense features of an open_clip ``VisionTransformer`` (``model.visual``).

    forward: (B, 3, H, W) float RGB in [0, 1], H and W multiples of the patch size (any aspect ratio) ->
    (B, D, H / patch, W / patch) unit-norm features (D = the tower's output_dim, 512 for ViT-B/16).
    """

    def __init__(self, visual):
        super().__init__()
        self._check_supported(visual)
        self.visual = visual
        mean, std = self._normalisation(visual)
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def _check_supported(visual):
        """TypeError unless ``visual`` is a ViT whose blocks use nn.MultiheadAttention and that has no
        attentional pooler (the value path is read from in_proj_weight / out_proj)."""
        if getattr(visual, 'attn_pool', None) is not None or not hasattr(visual, 'transformer'):
            raise TypeError(f'MaskCLIP needs a CLIP ViT image tower without attentional pooling, '
                            f'got {type(visual).__name__}')
        for block in visual.transformer.resblocks:
            if not isinstance(block.attn, nn.MultiheadAttention) or not block.attn._qkv_same_embed_dim:
                raise TypeError(f'MaskCLIP reads the value projection from nn.MultiheadAttention.in_proj_weight; '
                                f'this tower has {type(block).__name__} blocks')

    @staticmethod
    def _normalisation(visual):
        """(mean, std) RGB triples of the tower's preprocessing (CLIP's OpenAI statistics by default)."""
        from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
        return (getattr(visual, 'image_mean', None) or OPENAI_DATASET_MEAN,
                getattr(visual, 'image_std', None) or OPENAI_DATASET_STD)

    def train(self, mode=True):
        """The tower stays in eval mode (frozen): ``train()`` is a no-op."""
        return super().train(False)

    @property
    def patch_size(self):
        """(ph, pw) pixels per patch."""
        return tuple(self.visual.patch_size)

    @property
    def embed_dim(self):
        """D, the dimension of the features (and of the text anchors they are compared with)."""
        return self.visual.proj.shape[1]

    def patch_grid(self, height, width):
        """(h, w) patches of an H x W input; ValueError unless both are multiples of the patch size."""
        patch_h, patch_w = self.patch_size
        if height % patch_h or width % patch_w:
            raise ValueError(f'input {width}x{height} (WxH) is not a multiple of the {patch_w}x{patch_h} patch size')
        return height // patch_h, width // patch_w

    def embed(self, images):
        """(B, 3, H, W) normalised images -> (B, 1 + h * w, W) tokens: class token first, positions added,
        ln_pre applied."""
        grid = self.patch_grid(*images.shape[-2:])
        patches = self.visual.conv1(images).flatten(2).transpose(1, 2)
        class_token = self.visual.class_embedding.view(1, 1, -1).expand(len(images), -1, -1)
        positions = resized_positional_embedding(self.visual.positional_embedding, self.visual.grid_size, grid)
        return self.visual.ln_pre(torch.cat([class_token, patches], dim=1) + positions)

    def run_blocks(self, tokens, blocks):
        """Run ``blocks`` normally on (B, L, W) tokens, in the layout the transformer expects."""
        batch_first = getattr(self.visual.transformer, 'batch_first', True)
        tokens = tokens if batch_first else tokens.transpose(0, 1)
        for block in blocks:
            tokens = block(tokens)
        return tokens if batch_first else tokens.transpose(0, 1)

    @staticmethod
    def keys(block, tokens):
        """(B, L, W) keys of ``block``'s attention for (B, L, W) input tokens, passed through its attention output
        projection as MaskCLIP's key smoothing takes them: out_proj(W_k ln_1(x) + b_k)."""
        attn = block.attn
        width = attn.embed_dim
        bias = attn.in_proj_bias
        keys = F.linear(block.ln_1(tokens), attn.in_proj_weight[width:2 * width],
                        None if bias is None else bias[width:2 * width])
        return attn.out_proj(keys)

    @staticmethod
    def value_path(block, tokens):
        """The MaskCLIP last block on (B, L, W) tokens: each token attends only to itself, so attention is the
        value projection followed by the output projection; layer scale, residuals and the MLP as usual."""
        attn = block.attn
        width = attn.embed_dim
        values = F.linear(block.ln_1(tokens), attn.in_proj_weight[2 * width:],
                          None if attn.in_proj_bias is None else attn.in_proj_bias[2 * width:])
        tokens = tokens + block.ls_1(attn.out_proj(values))
        return tokens + block.ls_2(block.mlp(block.ln_2(tokens)))

    @torch.no_grad()
    def forward(self, images, return_keys=False):
        """(B, 3, H, W) RGB in [0, 1] -> (B, D, h, w) unit-norm dense features of the patch tokens; with
        ``return_keys`` also the (B, K, h, w) keys of the last block (for key smoothing)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f'images must be (B, 3, H, W), got {tuple(images.shape)}')
        grid = self.patch_grid(*images.shape[-2:])
        tokens = self.embed((images - self.mean) / self.std)
        *blocks, last_block = self.visual.transformer.resblocks
        tokens = self.run_blocks(tokens, blocks)
        keys = self.keys(last_block, tokens[:, 1:]) if return_keys else None
        tokens = self.value_path(last_block, tokens)
        features = F.normalize(self.visual.ln_post(tokens[:, 1:]) @ self.visual.proj, dim=-1)
        features = features.transpose(1, 2).reshape(len(images), -1, *grid)
        if return_keys:
            return features, keys.transpose(1, 2).reshape(len(images), -1, *grid)
        return features


def build_dense_features(model='ViT-B-16', pretrained=None, device='cpu'):
    """MaskCLIPDenseFeatures of an open_clip model: ``pretrained`` a tag or a local checkpoint file, or
    None / 'none' for random weights (drawn from a fixed seed)."""
    import open_clip
    if pretrained in RANDOM_WEIGHTS:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_WEIGHTS_SEED)
            clip = open_clip.create_model(model, pretrained=None, device=device)
    else:
        clip = open_clip.create_model(model, pretrained=pretrained, device=device)
    return MaskCLIPDenseFeatures(clip.visual).to(device)


def color_to_tensor(color, input_size):
    """(H, W, 3) uint8 RGB image -> (3, h, w) float in [0, 1] resized (bilinear, antialiased) to
    input_size = (w, h) pixels."""
    color = np.asarray(color)
    if color.ndim != 3 or color.shape[2] != 3 or color.dtype != np.uint8:
        raise ValueError(f'colour image must be (H, W, 3) uint8 RGB, got {color.shape} {color.dtype}')
    image = torch.tensor(color).permute(2, 0, 1)[None].float() / 255  # a copy: decoded images are read-only
    resized = F.interpolate(image, size=(input_size[1], input_size[0]), mode='bilinear', align_corners=False,
                            antialias=True)
    return resized[0].clamp(0, 1)


@PSEUDO_LABELLERS.register_module()
class MaskCLIPLabeller(PseudoLabeller):
    """Pixel pseudo-labels from MaskCLIP dense features and the text anchors of ``anchors_file``.

    model / pretrained: open_clip model name and weights (tag or local file; None / 'none': random weights);
    input_size: (W, H) network input in pixels, multiples of the patch size: every frame is resized to it;
    prompt_denoising: MaskCLIP's prompt denoising (off by default, as in MaskCLIP); key_smoothing: None (off, the
    default) or the probability threshold of :func:`key_smoothing`; device, batch_size: where and
    how many frames per forward pass (they do not change the labels, so the manifest leaves them out).
    """
    required_inputs = ('color',)

    def __init__(self, anchors_file, model='ViT-B-16', pretrained=None, input_size=(448, 336),
                 prompt_denoising=False, key_smoothing=None, device='cpu', batch_size=8):
        anchors, self.class_names, anchor_meta = read_text_anchor_file(anchors_file)
        if len(self.class_names) > 255:
            raise ValueError(f'{anchors_file} holds {len(self.class_names)} classes; label images hold at most 255')
        self.anchors_file = anchors_file
        self.anchors = torch.from_numpy(anchors).to(device)
        self.anchor_sha256 = anchors_hash(anchors)
        self.input_size = tuple(int(v) for v in input_size)
        self.device, self.batch_size = device, int(batch_size)
        self.params = dict(model=model, pretrained=pretrained, input_size=list(self.input_size),
                           prompt_denoising=bool(prompt_denoising), key_smoothing=key_smoothing,
                           num_templates=anchor_meta.get('num_templates'),
                           class_names=list(self.class_names))

    @functools.cached_property
    def dense_features(self):
        """The CLIP image tower as :class:`MaskCLIPDenseFeatures`, built on first use: building the labeller
        only to know its cache manifest (what training checks) loads no network."""
        params = self.params
        dense_features = build_dense_features(params['model'], params['pretrained'], self.device)
        if self.anchors.shape[1] != dense_features.embed_dim:
            raise ValueError(f'{self.anchors_file} holds {self.anchors.shape[1]}-d anchors, but {params["model"]} '
                             f'gives {dense_features.embed_dim}-d features')
        dense_features.patch_grid(self.input_size[1], self.input_size[0])
        return dense_features

    def token_scores(self, colors):
        """List of B (H, W, 3) uint8 RGB frames -> (B, C, h, w) class scores at the network input's patch grid:
        the cosine logits, then MaskCLIP's refinements in its order where enabled: prompt denoising (dropped
        classes at -inf), key smoothing (which turns the scores into probabilities)."""
        images = torch.stack([color_to_tensor(color, self.input_size) for color in colors]).to(self.device)
        smoothing = self.params['key_smoothing']
        if smoothing is None:
            features, keys = self.dense_features(images), None
        else:
            features, keys = self.dense_features(images, return_keys=True)
        scores = dense_logits(features, self.anchors)
        if self.params['prompt_denoising']:
            scores = prompt_denoise(scores)
        return scores if keys is None else key_smoothing(scores, keys, smoothing)

    @staticmethod
    def labels_from_scores(scores, label_size):
        """(B, C, h, w) token scores -> (B, H, W) uint8 class ids at label_size = (W, H): bilinear upsampling,
        argmax."""
        upsampled = F.interpolate(scores, size=(label_size[1], label_size[0]), mode='bilinear', align_corners=False)
        return upsampled.argmax(dim=1).to(torch.uint8).cpu().numpy()

    def label_batch(self, frame_ids, label_size, color):
        """Label frames together: ``color`` a list of (H, W, 3) uint8 RGB frames (``frame_ids`` unused),
        label_size (W, H) -> list of (H, W) uint8 label images (ids 0..C-1; MaskCLIP labels every pixel)."""
        labels = []
        for start in range(0, len(color), self.batch_size):
            chunk = color[start:start + self.batch_size]
            labels.extend(self.labels_from_scores(self.token_scores(chunk), label_size))
        return labels
