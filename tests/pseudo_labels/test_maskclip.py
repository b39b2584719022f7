"""MaskCLIP labeller: the dense value path against a step-by-step reference, position-embedding resizing,
frozen tower, prompt denoising, and labelling a tiny dataset into the cache."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hicl.label_sets import SCANNET20_CLASSES
from hicl.pseudo_labels import label_dataset, load_scene_infos
from hicl.pseudo_labels.anchors import anchors_hash, random_orthonormal_anchors, save_text_anchors
from hicl.pseudo_labels.cache import PseudoLabelCache, StaleCacheError
from hicl.pseudo_labels.maskclip import (MaskCLIPDenseFeatures, MaskCLIPLabeller, prompt_denoise,
                                         resized_positional_embedding)

WIDTH, HEADS = 64, 2
LABEL_SIZE = (160, 120)
LABELLER_INPUT = (96, 64)  # (W, H): small, so labelling the tiny dataset takes a moment


def small_tower(ls_init_value=None):
    """A 2-block ViT (width 64, 2 heads, 16 px patches, native 64x64) with every weight perturbed randomly."""
    import open_clip
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg
    torch.manual_seed(0)
    vision_cfg = CLIPVisionCfg(layers=2, width=WIDTH, head_width=WIDTH // HEADS, patch_size=16, image_size=64,
                               ls_init_value=ls_init_value)
    text_cfg = CLIPTextCfg(context_length=8, vocab_size=50, width=32, heads=2, layers=1)
    visual = open_clip.CLIP(embed_dim=32, vision_cfg=vision_cfg, text_cfg=text_cfg).visual
    with torch.no_grad():
        for parameter in visual.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return visual


def reference_dense_features(visual, images):
    """MaskCLIP features computed step by step from the raw weights: (B, 3, H, W) in [0, 1] -> (B, D, h, w)."""
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    batch, _, height, width = images.shape
    rows, cols = height // 16, width // 16
    patches = F.conv2d((images - mean) / std, visual.conv1.weight, stride=16)  # (B, W, h, w)
    tokens = patches.reshape(batch, WIDTH, rows * cols).transpose(1, 2)
    tokens = torch.cat([visual.class_embedding.expand(batch, 1, WIDTH), tokens], dim=1)
    grid_positions = visual.positional_embedding[1:].reshape(1, 4, 4, WIDTH).permute(0, 3, 1, 2)
    grid_positions = F.interpolate(grid_positions, size=(rows, cols), mode='bicubic', align_corners=False)
    tokens = tokens + torch.cat([visual.positional_embedding[:1],
                                 grid_positions.permute(0, 2, 3, 1).reshape(rows * cols, WIDTH)])
    norm = lambda x, ln: F.layer_norm(x, (WIDTH,), ln.weight, ln.bias)  # noqa: E731
    tokens = norm(tokens, visual.ln_pre)
    blocks = visual.transformer.resblocks
    for index, block in enumerate(blocks):
        w_q, w_k, w_v = block.attn.in_proj_weight.chunk(3)
        b_q, b_k, b_v = block.attn.in_proj_bias.chunk(3)
        x = norm(tokens, block.ln_1)
        value = x @ w_v.T + b_v
        if index < len(blocks) - 1:  # full multi-head attention
            split = lambda t: t.reshape(batch, -1, HEADS, WIDTH // HEADS).transpose(1, 2)  # noqa: E731
            query, key, value = split(x @ w_q.T + b_q), split(x @ w_k.T + b_k), split(value)
            weights = (query @ key.transpose(-1, -2) / (WIDTH // HEADS) ** 0.5).softmax(-1)
            value = (weights @ value).transpose(1, 2).reshape(batch, -1, WIDTH)
        attended = value @ block.attn.out_proj.weight.T + block.attn.out_proj.bias
        gamma_1 = block.ls_1.gamma if hasattr(block.ls_1, 'gamma') else 1
        gamma_2 = block.ls_2.gamma if hasattr(block.ls_2, 'gamma') else 1
        tokens = tokens + gamma_1 * attended
        hidden = F.gelu(norm(tokens, block.ln_2) @ block.mlp.c_fc.weight.T + block.mlp.c_fc.bias)
        tokens = tokens + gamma_2 * (hidden @ block.mlp.c_proj.weight.T + block.mlp.c_proj.bias)
    features = norm(tokens[:, 1:], visual.ln_post) @ visual.proj
    features = features / features.norm(dim=-1, keepdim=True)
    return features.transpose(1, 2).reshape(batch, -1, rows, cols)


@pytest.mark.parametrize('ls_init_value', [None, 0.5])
def test_dense_features_match_a_step_by_step_computation_on_a_non_square_input(ls_init_value):
    visual = small_tower(ls_init_value)
    images = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        expected = reference_dense_features(visual, images)
    features = MaskCLIPDenseFeatures(visual)(images)
    assert features.shape == (2, 32, 4, 6)
    torch.testing.assert_close(features, expected, rtol=1e-4, atol=1e-5)


def test_position_embeddings_are_unchanged_at_the_native_size_and_resized_otherwise():
    visual = small_tower()
    dense = MaskCLIPDenseFeatures(visual)
    native = resized_positional_embedding(visual.positional_embedding, (4, 4), (4, 4))
    assert torch.equal(native, visual.positional_embedding)
    with torch.no_grad():  # the native input uses the model's own embedding: same tokens as open_clip's _embeds
        images = torch.rand(1, 3, 64, 64)
        torch.testing.assert_close(dense.embed(images), visual._embeds(images))
    resized = resized_positional_embedding(visual.positional_embedding, (4, 4), (4, 6))
    assert resized.shape == (1 + 24, WIDTH) and torch.equal(resized[0], visual.positional_embedding[0])


def test_tower_is_frozen_and_rejects_inputs_off_the_patch_grid():
    dense = MaskCLIPDenseFeatures(small_tower())
    dense.train()
    assert not dense.visual.training
    assert not any(parameter.requires_grad for parameter in dense.parameters())
    features = dense(torch.rand(1, 3, 64, 96))
    assert features.grad_fn is None and not features.requires_grad
    with pytest.raises(ValueError, match='not a multiple of the 16x16 patch size'):
        dense(torch.rand(1, 3, 64, 90))


def test_prompt_denoising_drops_classes_that_never_win_clearly():
    logits = torch.zeros(2, 3, 1, 2)
    logits[0, 0, 0, 0] = 0.1  # image 0: class 0 wins pixel 0 clearly, nothing wins pixel 1 clearly
    logits[0, 1, 0, 1] = 0.001
    denoised = prompt_denoise(logits)
    assert torch.equal(denoised[0, 0], logits[0, 0])
    assert (denoised[0, 1:] == -100).all()  # MaskCLIP's value for a dropped class
    assert torch.equal(denoised[1], logits[1])  # image 1: no class clears 0.5, so all are kept


def test_prompt_denoising_keeps_a_class_that_wins_one_token_clearly():
    # 4 tokens: class 0 wins token 0 with probability e^10 / (e^10 + 1) > 0.5 and has about 0 elsewhere (its mean
    # over the image is about 0.25): MaskCLIP keeps a class by its peak probability, so both classes stay
    logits = torch.zeros(1, 2, 1, 4)
    logits[0, 0, 0, 0] = 0.1
    logits[0, 1, 0, 1:] = 0.1
    assert torch.equal(prompt_denoise(logits), logits)


@pytest.fixture(scope='module')
def labeller(synthrooms_tiny):
    """MaskCLIP labeller on a random-weight ViT-B/16 with the tiny dataset's 512-d anchors."""
    return MaskCLIPLabeller(str(synthrooms_tiny / 'text_anchors.npz'), pretrained=None, input_size=LABELLER_INPUT,
                            batch_size=5)


def test_vit_b16_dense_features_on_a_clip2scene_crop(labeller):
    features = labeller.dense_features(torch.rand(2, 3, 224, 416))
    assert features.shape == (2, 512, 14, 26)
    torch.testing.assert_close(features.norm(dim=1), torch.ones(2, 14, 26))


def test_labeller_fills_the_cache_and_refuses_it_with_other_anchors(labeller, synthrooms_tiny, tmp_path):
    infos = load_scene_infos(str(synthrooms_tiny), ['train', 'val'])
    cache_root = tmp_path / 'maskclip'
    result = label_dataset(infos, str(synthrooms_tiny), labeller, cache_root, LABEL_SIZE, progress=False,
                           label_set='scannet20')
    assert result['frames'] == result['written'] == 12
    labels = PseudoLabelCache(cache_root).read(infos[0]['scene_id'], infos[0]['frames'][0]['frame_id'])
    assert labels.shape == (120, 160) and labels.max() < len(SCANNET20_CLASSES)
    manifest = json.loads((cache_root / 'manifest.json').read_text())
    anchors = np.load(synthrooms_tiny / 'text_anchors.npz')['anchors']
    assert manifest['anchor_sha256'] == anchors_hash(anchors)
    assert manifest['labeller']['model'] == 'ViT-B-16' and manifest['labeller']['input_size'] == [96, 64]

    other_file = tmp_path / 'other_anchors.npz'
    save_text_anchors(other_file, random_orthonormal_anchors(len(SCANNET20_CLASSES), seed=1), SCANNET20_CLASSES,
                      dict(kind='random_orthonormal', seed=1))
    other = MaskCLIPLabeller(str(other_file), input_size=LABELLER_INPUT)
    with pytest.raises(StaleCacheError, match='anchor_sha256'):
        label_dataset(infos, str(synthrooms_tiny), other, cache_root, LABEL_SIZE, progress=False, label_set='scannet20')


def test_labeller_names_the_missing_anchors_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='make_text_embeddings'):
        MaskCLIPLabeller(str(tmp_path / 'missing.npz'))


def test_key_smoothing_as_maskclip_computes_it():
    from hicl.pseudo_labels.maskclip import key_smoothing

    # 1 x 3 tokens, 2 classes. p = softmax(100 * logits): token 0 [e^5, 1] / (e^5 + 1) and token 2
    # [1, e^3] / (1 + e^3) are sure (top > 0.9); token 1 [0.5, 0.5] is not.
    logits = torch.tensor([[0.05, 0.0, 0.0], [0.0, 0.0, 0.03]]).reshape(1, 2, 1, 3)
    # keys (1, 0), (1, 1), (0, 1), normalised as MaskCLIP does: each channel over the 3 positions -> rows
    # (1, 0) / sqrt 2, (1, 1) / sqrt 2, (0, 1) / sqrt 2; affinity row of token 1: [0.5, 1.0, 0.5] (not
    # thresholded, not row-normalised)
    keys = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]).reshape(1, 2, 1, 3)
    p0 = torch.tensor([math.exp(5), 1.0]) / (math.exp(5) + 1)
    p1 = torch.tensor([0.5, 0.5])
    p2 = torch.tensor([1.0, math.exp(3)]) / (1 + math.exp(3))
    expected = torch.stack([p0, 0.5 * p0 + p1 + 0.5 * p2, p2], dim=1).reshape(1, 2, 1, 3)  # only token 1 votes
    assert torch.allclose(key_smoothing(logits, keys, threshold=0.9), expected, atol=1e-6)
    # a threshold below every top probability changes nothing but the softmax
    assert torch.allclose(key_smoothing(logits, keys, threshold=0.4), torch.softmax(100 * logits, dim=1))


def test_last_block_keys_come_from_the_key_projection():
    import open_clip
    torch.manual_seed(0)
    visual = open_clip.create_model('ViT-B-16', pretrained=None).visual
    dense = MaskCLIPDenseFeatures(visual)
    images = torch.rand(1, 3, 32, 48)
    features, keys = dense(images, return_keys=True)
    assert features.shape == (1, 512, 2, 3) and keys.shape == (1, 768, 2, 3)
    assert torch.equal(features, dense(images))
    # the keys MaskCLIP smooths with: out_proj(W_k ln_1(x) + b_k) of the last block's input tokens
    block, width = visual.transformer.resblocks[-1], 768
    with torch.no_grad():
        tokens = dense.run_blocks(dense.embed((images - dense.mean) / dense.std), visual.transformer.resblocks[:-1])
        raw_keys = F.linear(block.ln_1(tokens[:, 1:]), block.attn.in_proj_weight[width:2 * width],
                            block.attn.in_proj_bias[width:2 * width])
        expected = block.attn.out_proj(raw_keys).transpose(1, 2).reshape(1, width, 2, 3)
    assert torch.allclose(keys, expected, atol=1e-5)
