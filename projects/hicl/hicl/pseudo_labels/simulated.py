"""Simulated vision-language labeller: true 2D labels degraded by noise of MaskCLIP's character.

Stands in for MaskCLIP where its weights are unavailable (the embedded demo) and writes the same cache. Each
kind of noise is one function, applied in this order:

1. ``scene_confusion_lut``  per scene, a few classes are systematically labelled as a confusable class, in
                            every frame of the scene (a bias multi-view consensus cannot remove);
2. ``confuse_looks``        (when ``look_confusion_prob`` > 0) per LOOK, i.e. (true class, colour bin of the
                            object in the frame): a fixed confusable class and a fixed chance, drawn once from
                            the seed, to be called it in each view; similar-looking objects share both across
                            views and scenes (CLIP's errors follow appearance: a white cabinet reads as a
                            fridge wherever it stands);
   ``confuse_instances``    per (object, view), the whole visible object may get a confusable class, so one
                            object carries different labels in different frames;
   ``flip_classes``         (outdoor presets) per (object, view), classes CLIP names badly are relabelled as
                            a fixed wrong class with a high per-class probability, so that most of their labels
                            are wrong (the character of the paper's nuScenes pseudo-labels, Fig. 5);
3. ``vote_tokens``          labels are decided per token (ViT-B/16 patch) by majority vote: blocky boundaries,
                            thin and small objects swallowed by their surroundings;
4. ``bleed_tokens``         tokens at a region boundary may take a neighbouring region's label;
5. ``confuse_tokens``       blobs of tokens may take a semantically close class (chair/sofa, table/desk, ...);
6. ``randomise_tokens``     tokens may take any class;
7. ``upsample_tokens_*``    tokens back to pixels: 'nearest' gives square blocks, 'bilinear' (bilinear weights
                            of the one-hot tokens, then argmax) mimics MaskCLIP's bilinear upsampling of logits.

Token size is in label-image pixels. MaskCLIP (ViT-B/16) sees the 640x480 frame crop-resized to 416x224
(CLIP2Scene), so one 16 px token covers about 25 x 34 px of the 640x480 frame, i.e. 12 x 17 px of the
default 320x240 label image: the default 16 px square token sits at that scale.

Confusable classes are given by NAME (``DEFAULT_CONFUSION_GROUPS``), so the noise carries over to other label
sets. Randomness is deterministic from (seed, scene id, frame id), hashed with crc32 (Python's hash() is salted).
"""
import zlib

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from scipy.special import ndtri

from ..label_sets import IMAGE_IGNORE, get_label_set
from ..registry import PSEUDO_LABELLERS
from .labeller import PseudoLabeller

FURNITURE = ('cabinet', 'bed', 'chair', 'sofa', 'table', 'bookshelf', 'counter', 'desk')
# Groups of classes a CLIP-style labeller confuses with each other; a class's partners are the union of its
# groups. 'other furniture' pairs with each furniture class, which stay apart from each other.
DEFAULT_CONFUSION_GROUPS = (
    ('chair', 'sofa'),
    ('table', 'desk'),
    ('cabinet', 'bookshelf', 'counter'),
    ('wall', 'curtain', 'picture', 'window'),
    ('door', 'wall'),
    ('bathtub', 'sink', 'toilet'),
    ('bed', 'sofa'),
    ('refrigerator', 'cabinet'),
    ('curtain', 'shower curtain'),
) + tuple(('other furniture', name) for name in FURNITURE)
# Outdoor (nuScenes-16): vehicles among themselves, flat classes among themselves, small street furniture
# with the buildings.
OUTDOOR_CONFUSION_GROUPS = (
    ('car', 'truck', 'bus', 'trailer', 'construction vehicle'),
    ('bicycle', 'motorcycle'),
    ('pedestrian', 'bicycle'),
    ('driveable surface', 'sidewalk', 'other flat'),
    ('sidewalk', 'terrain'),
    ('terrain', 'vegetation'),
    ('manmade', 'barrier', 'traffic cone'),
    ('manmade', 'vegetation'),
)
# (class, the class it is taken for, probability per object and view): rare or ambiguous outdoor classes
# that a CLIP labeller mostly gets wrong (paper Fig. 5: e.g. trailers read as trucks, other-flat as road).
OUTDOOR_CLASS_FLIPS = (
    ('trailer', 'truck', 0.8),
    ('construction vehicle', 'truck', 0.7),
    ('other flat', 'driveable surface', 0.8),
    ('barrier', 'manmade', 0.6),
    ('traffic cone', 'barrier', 0.5),
    ('motorcycle', 'bicycle', 0.6),
    ('terrain', 'vegetation', 0.5),
    ('bus', 'truck', 0.3),
    ('sidewalk', 'driveable surface', 0.3),
)
# Noise presets by label set: confusion groups, class flips (a label set without a preset has neither).
NOISE_PRESETS = dict(scannet20=(DEFAULT_CONFUSION_GROUPS, ()),
                     nuscenes16=(OUTDOOR_CONFUSION_GROUPS, OUTDOOR_CLASS_FLIPS))
# Mean chance that a look is called a confusable class (confuse_looks); 0 turns look noise off. Outdoors it is
# off: the nuScenes preset's class flips already follow the classes CLIP names badly.
LOOK_CONFUSION_DEFAULTS = dict(scannet20=0.2, nuscenes16=0.0)
NEIGHBOUR_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def normalise_name(name):
    """Class name reduced to lower-case letters and digits ('Other_Furniture' -> 'otherfurniture')."""
    return ''.join(ch for ch in name.lower() if ch.isalnum())


def confusion_partner_table(class_names, groups):
    """(C, K) int64 table of each class's confusable class ids, padded with -1 (K >= 1).

    groups: sequences of class names; names not in ``class_names`` are ignored.
    """
    index = {normalise_name(name): i for i, name in enumerate(class_names)}
    partners = [set() for _ in class_names]
    for group in groups:
        ids = {index[normalise_name(name)] for name in group if normalise_name(name) in index}
        for class_id in ids:
            partners[class_id] |= ids - {class_id}
    table = np.full((len(class_names), max(1, *map(len, partners))), -1, dtype=np.int64)
    for class_id, ids in enumerate(partners):
        table[class_id, :len(ids)] = sorted(ids)
    return table


def sample_partners(classes, partner_table, rng):
    """A uniformly drawn confusable class for each entry of ``classes`` (int array of ids 0..C-1).

    Classes without partners are returned unchanged.
    """
    classes = np.asarray(classes, dtype=np.int64)
    counts = (partner_table >= 0).sum(1)[classes]
    picks = (rng.random(classes.shape) * np.maximum(counts, 1)).astype(np.int64)
    return np.where(counts > 0, partner_table[classes, picks], classes)


def scene_confusion_lut(partner_table, prob, rng):
    """(256,) uint8 lookup applied to a scene's labels: each class that has partners is, with probability
    ``prob``, relabelled as one of them; other ids (and 255) map to themselves."""
    lut = np.arange(256, dtype=np.uint8)
    classes = np.arange(len(partner_table))
    confused = classes[rng.random(len(classes)) < prob]
    lut[confused] = sample_partners(confused, partner_table, rng)
    return lut


def confuse_instances(labels, instances, partner_table, prob, rng):
    """Relabel each visible object, with probability ``prob``, as a confusable class of its majority class.

    labels: (H, W) uint8 train ids / 255; instances: (H, W) int instance ids, 0 = none. Only the object's
    labelled pixels change. Returns a new (H, W) uint8 image.
    """
    ids, pixel_object = np.unique(instances, return_inverse=True)
    pixel_object = pixel_object.reshape(labels.shape)
    labelled = labels != IMAGE_IGNORE
    votes = np.bincount(pixel_object[labelled] * 256 + labels[labelled], minlength=len(ids) * 256)
    votes = votes.reshape(len(ids), 256)
    majority = votes.argmax(1)
    flipped = (rng.random(len(ids)) < prob) & (ids > 0) & (votes.sum(1) > 0)
    new_class = majority.copy()
    new_class[flipped] = sample_partners(majority[flipped], partner_table, rng)
    relabel = flipped[pixel_object] & labelled
    return np.where(relabel, new_class[pixel_object], labels).astype(np.uint8)


LOOK_HUE_BINS, LOOK_VALUE_BINS = 6, 3
LOOK_GREY_SATURATION = 0.2  # below this saturation an object's colour counts as grey (hue bin LOOK_HUE_BINS)
LOOK_CONCENTRATION = 1.0  # a + b of the Beta distribution of a look's chance: < 2, so most looks are rarely
# confused and a few almost always


def resize_color(color, shape):
    """(H, W, 3) uint8 RGB resized (box filter) to ``shape`` = (h, w)."""
    color = np.asarray(color, dtype=np.uint8)
    if color.shape[:2] == tuple(shape):
        return color
    return np.asarray(Image.fromarray(color).resize((shape[1], shape[0]), Image.BOX))


def object_looks(color, instances):
    """(K,) object ids (> 0) visible in a frame and (K,) look bins of their mean colour in it: hue (6 bins, or
    grey) x brightness (3 bins), an int in 0..(LOOK_HUE_BINS + 1) * LOOK_VALUE_BINS - 1.

    color: (H, W, 3) uint8 RGB at the size of ``instances`` (H, W) int object ids, 0 = none.
    """
    ids, pixel_object = np.unique(instances, return_inverse=True)
    counts = np.bincount(pixel_object.ravel(), minlength=len(ids))
    mean = np.stack([np.bincount(pixel_object.ravel(), color[..., c].ravel(), minlength=len(ids))
                     for c in range(3)], axis=1) / np.maximum(counts, 1)[:, None] / 255.0
    high, low = mean.max(1), mean.min(1)
    chroma = high - low
    saturation = np.where(high > 0, chroma / np.maximum(high, 1e-9), 0.0)
    r, g, b = mean.T
    with np.errstate(invalid='ignore', divide='ignore'):
        sector = np.where(high == r, ((g - b) / chroma) % 6,
                          np.where(high == g, (b - r) / chroma + 2, (r - g) / chroma + 4))
    hue = sector / 6
    hue_bin = np.where(saturation < LOOK_GREY_SATURATION, LOOK_HUE_BINS,
                       np.minimum(np.nan_to_num(hue) * LOOK_HUE_BINS, LOOK_HUE_BINS - 1).astype(np.int64))
    value_bin = np.minimum(high * LOOK_VALUE_BINS, LOOK_VALUE_BINS - 1).astype(np.int64)
    looks = hue_bin * LOOK_VALUE_BINS + value_bin
    return ids[ids > 0], looks[ids > 0]


def look_confusion(seed, class_id, look, partner_table, mean_prob):
    """(chance, confusable class) of objects of true class ``class_id`` with ``look``: the same for every
    object, view and scene (drawn from (seed, class, look) alone). chance ~ Beta with mean ``mean_prob`` and
    concentration LOOK_CONCENTRATION; the class is one of the class's partners (itself when it has none)."""
    rng = np.random.default_rng([seed, 0x100C, int(class_id), int(look)])
    chance = rng.beta(LOOK_CONCENTRATION * mean_prob, LOOK_CONCENTRATION * (1 - mean_prob))
    return chance, int(sample_partners([class_id], partner_table, rng)[0])


def confuse_looks(labels, instances, color, partner_table, seed, mean_prob, rng):
    """Relabel each visible object, with its look's chance, as its look's confusable class (``look_confusion``).

    labels: (H, W) uint8 train ids / 255; instances (H, W) int ids; color (H, W, 3) uint8. The object's class
    is the majority of its labelled pixels; only those change. Returns a new (H, W) uint8 image.
    """
    ids, looks = object_looks(color, instances)
    relabelled = labels.copy()
    draws = rng.random(len(ids))
    for object_id, look, draw in zip(ids, looks, draws):
        pixels = (instances == object_id) & (labels != IMAGE_IGNORE)
        if not pixels.any():
            continue
        class_id = np.bincount(labels[pixels]).argmax()
        chance, wrong = look_confusion(seed, class_id, look, partner_table, mean_prob)
        if draw < chance:
            relabelled[pixels] = wrong
    return relabelled


def class_flip_table(class_names, flips):
    """(C,) int64 wrong class and (C,) float64 probability of each class from (name, name, prob) triples;
    classes without a flip map to themselves with probability 0. Unknown names raise ValueError."""
    index = {normalise_name(name): i for i, name in enumerate(class_names)}
    targets, probs = np.arange(len(class_names)), np.zeros(len(class_names))
    for source, target, prob in flips:
        unknown = [name for name in (source, target) if normalise_name(name) not in index]
        if unknown:
            raise ValueError(f'class flip ({source!r} -> {target!r}) names {unknown}, not among {list(class_names)}')
        targets[index[normalise_name(source)]], probs[index[normalise_name(source)]] = \
            index[normalise_name(target)], prob
    return targets, probs


def flip_classes(labels, instances, targets, probs, rng):
    """Relabel each (object, class) region of a view, with probability ``probs[class]``, as ``targets[class]``.

    labels: (H, W) uint8 train ids / 255; instances: (H, W) int instance ids (0 = no object: the class's
    whole unassigned region in the view is one unit). Returns a new (H, W) uint8 image.
    """
    labelled = labels != IMAGE_IGNORE
    units, unit_of_pixel = np.unique(instances[labelled].astype(np.int64) * 256 + labels[labelled],
                                     return_inverse=True)
    unit_class = units % 256
    flipped = rng.random(len(units)) < probs[unit_class]
    relabelled = labels.copy()
    relabelled[labelled] = np.where(flipped, targets[unit_class], unit_class)[unit_of_pixel]
    return relabelled


def vote_tokens(labels, token_size):
    """Majority label of each token_size x token_size token, counting labelled pixels only.

    labels: (H, W) uint8. Returns (ceil(H / t), ceil(W / t)) uint8 tokens, 255 where a token has no labelled
    pixel. Ties go to the lower class id.
    """
    height, width = labels.shape
    rows, cols = -(-height // token_size), -(-width // token_size)
    pixel_token = (np.arange(height)[:, None] // token_size) * cols + np.arange(width)[None, :] // token_size
    labelled = labels != IMAGE_IGNORE
    votes = np.bincount(pixel_token[labelled] * 256 + labels[labelled], minlength=rows * cols * 256)
    votes = votes.reshape(rows * cols, 256)
    tokens = np.where(votes.any(1), votes.argmax(1), IMAGE_IGNORE)
    return tokens.reshape(rows, cols).astype(np.uint8)


def neighbour_tokens(tokens):
    """(8, R, C) labels of the 8 neighbours of each token, 255 beyond the grid edge."""
    rows, cols = tokens.shape
    padded = np.pad(tokens, 1, constant_values=IMAGE_IGNORE)
    return np.stack([padded[1 + dy:1 + dy + rows, 1 + dx:1 + dx + cols] for dy, dx in NEIGHBOUR_OFFSETS])


def bleed_tokens(tokens, prob, rng):
    """Each labelled token next to another labelled region takes, with probability ``prob``, the label of a
    random 8-neighbour of a different class. tokens: (R, C) uint8; returns a new (R, C) uint8 grid."""
    neighbours = neighbour_tokens(tokens)
    differs = (neighbours != tokens) & (neighbours != IMAGE_IGNORE) & (tokens != IMAGE_IGNORE)
    chosen = np.where(differs, rng.random(neighbours.shape), -1.0).argmax(0)
    bleeds = differs.any(0) & (rng.random(tokens.shape) < prob)
    return np.where(bleeds, np.take_along_axis(neighbours, chosen[None], 0)[0], tokens)


def noise_blobs(shape, prob, blob_sigma, rng):
    """(R, C) bool mask covering about a fraction ``prob`` of the tokens in blobs: white noise smoothed by a
    Gaussian of ``blob_sigma`` tokens (0: independent tokens), thresholded at the normal (1 - prob) quantile."""
    field = gaussian_filter(rng.standard_normal(shape), blob_sigma)
    return field / field.std() > ndtri(1 - prob)


def confuse_tokens(tokens, partner_table, prob, blob_sigma, rng):
    """Blobs of labelled tokens (about a fraction ``prob``, see ``noise_blobs``) take a confusable class.

    One partner is drawn per class and view, so a blob reads as one wrong region. (R, C) uint8 -> (R, C) uint8.
    """
    view_partner = sample_partners(np.arange(len(partner_table)), partner_table, rng)
    hit = noise_blobs(tokens.shape, prob, blob_sigma, rng) & (tokens != IMAGE_IGNORE)
    confused = tokens.copy()
    confused[hit] = view_partner[tokens[hit]]
    return confused


def randomise_tokens(tokens, num_classes, prob, rng):
    """Each labelled token takes, with probability ``prob``, a uniformly drawn class 0..C-1."""
    hit = (tokens != IMAGE_IGNORE) & (rng.random(tokens.shape) < prob)
    randomised = tokens.copy()
    randomised[hit] = rng.integers(0, num_classes, hit.sum())
    return randomised


def upsample_tokens_nearest(tokens, token_size, shape):
    """(R, C) tokens -> (H, W) label image, each token a token_size square block (cropped to ``shape``)."""
    blocks = np.repeat(np.repeat(tokens, token_size, 0), token_size, 1)
    return blocks[:shape[0], :shape[1]]


def _linear_taps(num_pixels, token_size, num_tokens):
    """Per pixel along one axis: lower and upper token index and the upper token's weight (token centres at
    (i + 0.5) * token_size - 0.5 px, clamped at the edges)."""
    position = np.clip((np.arange(num_pixels) + 0.5) / token_size - 0.5, 0, num_tokens - 1)
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, num_tokens - 1)
    return lower, upper, position - lower


def upsample_tokens_bilinear(tokens, token_size, shape):
    """(R, C) tokens -> (H, W) label image: bilinear interpolation of the one-hot tokens, then argmax."""
    values, token_index = np.unique(tokens, return_inverse=True)
    token_index = token_index.reshape(tokens.shape)
    row_lo, row_hi, row_w = _linear_taps(shape[0], token_size, tokens.shape[0])
    col_lo, col_hi, col_w = _linear_taps(shape[1], token_size, tokens.shape[1])
    scores = np.zeros((shape[0] * shape[1], len(values)))
    pixel = np.arange(len(scores))
    for rows, row_weight in ((row_lo, 1 - row_w), (row_hi, row_w)):
        for cols, col_weight in ((col_lo, 1 - col_w), (col_hi, col_w)):
            corner = token_index[rows[:, None], cols[None, :]].ravel()
            scores[pixel, corner] += (row_weight[:, None] * col_weight[None, :]).ravel()
    return values[scores.argmax(1)].reshape(shape).astype(np.uint8)


UPSAMPLERS = dict(nearest=upsample_tokens_nearest, bilinear=upsample_tokens_bilinear)


def id_hash(value):
    """Stable 32-bit hash of a scene or frame id."""
    return zlib.crc32(str(value).encode())


@PSEUDO_LABELLERS.register_module()
class SimulatedVLMLabeller(PseudoLabeller):
    """Pseudo-labels made from true 2D labels by MaskCLIP-like noise (see the module docstring).

    Probabilities are per scene-class (scene_confusion_prob), per look (look_confusion_prob: the mean chance of
    a look, see ``confuse_looks``), per object and view (view_confusion_prob, class_flips) and per token
    (bleed_prob, token_confusion_prob, token_noise_prob); token_size in label-image pixels, confusion_blob_sigma
    in tokens.

    ``label_set`` (any registered one, :mod:`hicl.label_sets`) gives the default ``class_names``; for
    'scannet20' and 'nuscenes16' also ``confusion_groups``, ``class_flips`` (``NOISE_PRESETS``) and
    ``look_confusion_prob`` (``LOOK_CONFUSION_DEFAULTS``; other sets: none, none and 0); each may be passed
    explicitly instead. With look noise on, the labeller also reads the colour frame.
    """

    def __init__(self, class_names=None, seed=0, token_size=16, upsample='bilinear',
                 scene_confusion_prob=0.05, view_confusion_prob=0.05, bleed_prob=0.3, token_confusion_prob=0.15,
                 confusion_blob_sigma=1.0, token_noise_prob=0.02, confusion_groups=None, class_flips=None,
                 label_set='scannet20', look_confusion_prob=None):
        if upsample not in UPSAMPLERS:
            raise ValueError(f'upsample must be one of {sorted(UPSAMPLERS)}, got {upsample!r}')
        preset_groups, preset_flips = NOISE_PRESETS.get(label_set, ((), ()))
        class_names = get_label_set(label_set)['classes'] if class_names is None else class_names
        confusion_groups = preset_groups if confusion_groups is None else confusion_groups
        class_flips = preset_flips if class_flips is None else class_flips
        self.class_names = tuple(class_names)
        self.params = dict(
            class_names=list(class_names), seed=seed, token_size=token_size, upsample=upsample,
            scene_confusion_prob=scene_confusion_prob, view_confusion_prob=view_confusion_prob,
            bleed_prob=bleed_prob, token_confusion_prob=token_confusion_prob,
            confusion_blob_sigma=confusion_blob_sigma, token_noise_prob=token_noise_prob,
            confusion_groups=[list(group) for group in confusion_groups])
        if class_flips:  # recorded only when used, so caches of the indoor presets keep their manifest
            self.params['class_flips'] = [list(flip) for flip in class_flips]
        if look_confusion_prob is None:
            look_confusion_prob = LOOK_CONFUSION_DEFAULTS.get(label_set, 0.0)
        if not 0 <= look_confusion_prob < 1:
            raise ValueError(f'look_confusion_prob must be in [0, 1), got {look_confusion_prob}')
        self.params['look_confusion_prob'] = look_confusion_prob  # always: its default depends on label_set
        self.required_inputs = ('true_labels', 'instances') + (('color',) if look_confusion_prob else ())
        self.partner_table = confusion_partner_table(class_names, confusion_groups)
        self.flip_targets, self.flip_probs = class_flip_table(class_names, class_flips)

    def label_batch(self, frame_ids, label_size, true_labels, instances, color=None):
        """:meth:`label` of each frame (the true labels are read at label_size already)."""
        colors = [None] * len(frame_ids) if color is None else color
        return [self.label(scene_id, frame_id, frame_truth, frame_instances, frame_color)
                for (scene_id, frame_id), frame_truth, frame_instances, frame_color
                in zip(frame_ids, true_labels, instances, colors)]

    def label(self, scene_id, frame_id, true_labels, instances, color=None):
        """(H, W) uint8 noisy labels from (H, W) true train ids / 255 and (H, W) instance ids (0 = none); with
        look noise on, ``color`` is the frame's (H', W', 3) uint8 RGB image at any size.

        A token with any labelled pixel labels all its pixels, so unlabelled pixels next to labelled ones receive
        labels (as MaskCLIP labels every pixel); tokens without labelled pixels stay 255.
        """
        p = self.params
        scene_rng = np.random.default_rng([p['seed'], id_hash(scene_id)])
        frame_rng = np.random.default_rng([p['seed'], id_hash(scene_id), id_hash(frame_id)])
        labels = scene_confusion_lut(self.partner_table, p['scene_confusion_prob'], scene_rng)[true_labels]
        if p['look_confusion_prob']:
            if color is None:
                raise ValueError('look_confusion_prob > 0: the labeller needs the colour frame (color=...)')
            look_rng = np.random.default_rng([p['seed'], id_hash(scene_id), id_hash(frame_id), 0x100C])
            labels = confuse_looks(labels, instances, resize_color(color, labels.shape), self.partner_table,
                                   p['seed'], p['look_confusion_prob'], look_rng)
        labels = confuse_instances(labels, instances, self.partner_table, p['view_confusion_prob'], frame_rng)
        if 'class_flips' in p:
            labels = flip_classes(labels, instances, self.flip_targets, self.flip_probs, frame_rng)
        tokens = vote_tokens(labels, p['token_size'])
        tokens = bleed_tokens(tokens, p['bleed_prob'], frame_rng)
        tokens = confuse_tokens(tokens, self.partner_table, p['token_confusion_prob'], p['confusion_blob_sigma'],
                                frame_rng)
        tokens = randomise_tokens(tokens, len(self.class_names), p['token_noise_prob'], frame_rng)
        return UPSAMPLERS[p['upsample']](tokens, p['token_size'], labels.shape)
