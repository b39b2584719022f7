"""Text anchors T (C x D): the fixed class embeddings of paper 3.1, and their file format.

File: ``.npz`` with ``anchors`` (C, D) float32 (unit rows), ``classes`` (C,) str and ``meta`` (a JSON string:
how they were made). No pickle, so loading a file cannot run code.
"""
import hashlib
import json
import os
import tempfile

import numpy as np

# The 5 scene templates CLIP2Scene adds to CLIP's 80 ImageNet templates.
SCENE_TEMPLATES = ('there is a {} in the scene.', 'there is the {} in the scene.', 'this is a {} in the scene.',
                   'this is the {} in the scene.', 'this is one {} in the scene.')


def prompt_templates():
    """The 85-template prompt ensemble: CLIP's 80 ImageNet templates (as shipped by open_clip) + 5 scene ones."""
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES
    return tuple(t('{}') for t in OPENAI_IMAGENET_TEMPLATES) + SCENE_TEMPLATES


def prompt_class_name(name):
    """Class names are written as words: 'traffic_cone' -> 'traffic cone' (a pitfall of the prior code)."""
    return name.replace('_', ' ').strip()


def encode_text_anchors(model, tokenizer, class_names, templates, device='cpu', batch_size=256):
    """Prompt-ensemble text anchors with an open_clip model: (C, D) float32 unit rows.

    Each template's embedding is L2-normalised, the per-class mean is taken and normalised again.
    """
    import torch
    anchors = []
    model.eval()
    with torch.no_grad():
        for name in class_names:
            prompts = [t.format(prompt_class_name(name)) for t in templates]
            embeddings = torch.cat([
                model.encode_text(tokenizer(prompts[i:i + batch_size]).to(device))
                for i in range(0, len(prompts), batch_size)])
            embeddings = embeddings / embeddings.norm(dim=-1, keepdim=True)
            mean = embeddings.mean(dim=0)
            anchors.append((mean / mean.norm()).float().cpu().numpy())
    return np.stack(anchors)


def random_orthonormal_anchors(num_classes, embed_dim=512, seed=0):
    """(C, D) orthonormal rows from a seed: the anchors of the simulated labeller (no CLIP weights needed)."""
    if num_classes > embed_dim:
        raise ValueError(f'cannot draw {num_classes} orthonormal anchors in {embed_dim} dimensions')
    gaussian = np.random.default_rng(seed).standard_normal((embed_dim, num_classes))
    q, r = np.linalg.qr(gaussian)
    return (q * np.sign(np.diag(r))).T.astype(np.float32)


# CLIP-like anchor geometry. Class embeddings of one prompt ensemble share a large common component: with CLIP
# ViT-B/16 the pairwise cosines of class-name anchors are typically about 0.7-0.85. Each class gets a random share
# of a common direction (SHARED_SHARE), a share of one direction per confusion group it is in (GROUP_SHARE,
# split over its groups), and the rest on its own direction.
SHARED_SHARE = (0.62, 0.78)  # uniform range of each class's share of the common direction (squared weight)
GROUP_SHARE = 0.14  # squared weight of the confusion-group directions


def clip_like_anchors(class_names, confusion_groups, embed_dim=512, seed=0, shared_share=SHARED_SHARE,
                      group_share=GROUP_SHARE):
    """(C, D) unit anchors whose pairwise cosines look like CLIP's: a common component (each class's squared
    weight drawn from ``shared_share``), a component per confusion group (``confusion_groups``: sequences of
    class names, e.g. the simulated labeller's; classes sharing a group are closer) and a class-specific rest.

    All directions are orthonormal, so cos(a, b) = sqrt(s_a s_b) + group_share * |G_a & G_b| / sqrt(|G_a| |G_b|)
    exactly (s: the shares, G: a class's groups).
    """
    index = {name: i for i, name in enumerate(class_names)}
    groups = [[index[name] for name in group if name in index] for group in confusion_groups]
    groups = [group for group in groups if len(group) > 1]
    num_classes = len(class_names)
    if 1 + len(groups) + num_classes > embed_dim:
        raise ValueError(f'{num_classes} classes and {len(groups)} groups need more than {embed_dim} dimensions')
    rng = np.random.default_rng(seed)
    basis, r = np.linalg.qr(rng.standard_normal((embed_dim, 1 + len(groups) + num_classes)))
    basis = (basis * np.sign(np.diag(r))).T  # orthonormal rows: common, one per group, one per class
    member = np.zeros((num_classes, len(groups)))
    for g, group in enumerate(groups):
        member[group, g] = 1.0
    counts = member.sum(1, keepdims=True)
    shared = rng.uniform(*shared_share, size=num_classes)
    group_weights = np.where(counts > 0, np.sqrt(group_share / np.maximum(counts, 1)), 0.0) * member
    own = np.sqrt(1.0 - shared - np.where(counts[:, 0] > 0, group_share, 0.0))
    anchors = (np.sqrt(shared)[:, None] * basis[0] + group_weights @ basis[1:1 + len(groups)]
               + own[:, None] * basis[1 + len(groups):])
    return (anchors / np.linalg.norm(anchors, axis=1, keepdims=True)).astype(np.float32)


def cosine_statistics(anchors, class_names=None, confusion_groups=()):
    """Pairwise cosines of (C, D) unit anchors: dict(mean, min, max over all pairs; confusable_mean and
    other_mean: pairs sharing a confusion group, and the rest)."""
    cos = np.asarray(anchors, dtype=np.float64) @ np.asarray(anchors, dtype=np.float64).T
    upper = np.triu_indices(len(cos), 1)
    stats = dict(mean=float(cos[upper].mean()), min=float(cos[upper].min()), max=float(cos[upper].max()))
    if class_names is not None:
        index = {name: i for i, name in enumerate(class_names)}
        confusable = np.zeros_like(cos, dtype=bool)
        for group in confusion_groups:
            ids = [index[name] for name in group if name in index]
            confusable[np.ix_(ids, ids)] = True
        stats.update(confusable_mean=float(cos[upper][confusable[upper]].mean()),
                     other_mean=float(cos[upper][~confusable[upper]].mean()))
    return stats


def anchors_hash(anchors):
    """sha256 of the anchors' float32 bytes (recorded in pseudo-label cache manifests)."""
    return hashlib.sha256(np.ascontiguousarray(anchors, dtype=np.float32).tobytes()).hexdigest()


def save_text_anchors(path, anchors, class_names, meta):
    """Write the anchor file atomically (temporary file in the same folder, then rename)."""
    anchors = np.asarray(anchors, dtype=np.float32)
    if anchors.ndim != 2 or len(anchors) != len(class_names):
        raise ValueError(f'anchors must be (C, D) with C = {len(class_names)} classes, got {anchors.shape}')
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.npz', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez(f, anchors=anchors, classes=np.array(class_names), meta=json.dumps(meta, sort_keys=True))
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def read_text_anchor_file(path):
    """(anchors (C, D) float32, class names tuple, meta dict) from an anchor file; clear errors otherwise."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'text-anchor file {path} not found: create it with tools/make_text_embeddings.py '
            '(or tools/create_data.py synthrooms for the demo)')
    try:
        with np.load(path, allow_pickle=False) as data:
            return (data['anchors'].astype(np.float32), tuple(str(c) for c in data['classes']),
                    json.loads(str(data['meta'])))
    except (ValueError, KeyError, OSError) as err:
        raise ValueError(f'{path} is not a text-anchor file (npz with anchors, classes, meta): {err}') from err


def load_text_anchors(path, class_names=None, embed_dim=None):
    """(C, D) anchors from ``path``, checked against the expected class names and dimension."""
    anchors, classes, _ = read_text_anchor_file(path)
    if class_names is not None and tuple(class_names) != classes:
        raise ValueError(f'{path} holds anchors for classes {classes}, but the config asks for '
                         f'{tuple(class_names)}: regenerate it with tools/make_text_embeddings.py')
    if embed_dim is not None and anchors.shape[1] != embed_dim:
        raise ValueError(f'{path} holds {anchors.shape[1]}-d anchors, but embed_dim={embed_dim}')
    return anchors
