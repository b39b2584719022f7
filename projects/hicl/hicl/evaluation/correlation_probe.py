"""The correlation instruments on validation scenes, against the TRUE classes (training only knows pseudo-labels).

Two questions, answered after every validation epoch by CorrelationProbeHook:
- How compact are the 3D net's point features per true class (within- over between-class variance, paper
  Fig. 7)? Asked of every label-free segmentor.
- Once the necks train: does their attention concentrate on points of the same true class, and how well do the
  net's and the necks' logits classify the sampled points?
"""
import math

import torch

from ..metrics import feature_compactness
from ..models import correlation_instruments as instruments
from ..models.losses import text_anchor_logits
from ..models.point_voxels import batch_voxel_index


def scene_point_features(model, data_batch):
    """Run the 3D net on a validation batch: per scene, the (N_b, D) CLIP-space features of its points and
    their (N_b,) true classes (-1 where the truth is outside the model's classes: ignored)."""
    data = model.data_preprocessor(data_batch, False)
    voxel_features = model.decode_head.embed(model.extract_feat(data['inputs']))
    samples = data['data_samples']
    all_points = [torch.arange(len(sample.point2voxel_map)) for sample in samples]
    num_classes = len(model.decode_head.text_anchors)
    for sample, rows in zip(samples, batch_voxel_index(samples, all_points)):
        truth = torch.as_tensor(sample.eval_ann_info['pts_semantic_mask']).long()  # what the metric reads
        truth = torch.where((truth >= 0) & (truth < num_classes), truth, -1)
        yield voxel_features[rows], truth


def neck_probe(model, scene_tokens):
    """The necks on one group of scenes' tokens (B pairs of (M_b, D) features, (M_b,) true classes): per neck,
    the change, the attention entropy and mass on the same true class per layer and the accuracy; the net's
    accuracy on the same tokens."""
    scene_features = [features for features, _ in scene_tokens]
    classes = torch.cat([labels for _, labels in scene_tokens])
    net_logits = text_anchor_logits(torch.cat(scene_features), model.decode_head.text_anchors)
    stats = dict(acc_net=instruments.accuracy(net_logits, classes))
    for short_name, neck, inputs, outputs, logits in model.neck_passes(scene_features):
        stats.update(instruments.neck_instruments(short_name, neck, inputs, outputs, {'class': classes}, logits,
                                                  classes))
    return stats


@torch.no_grad()
def probe_correlation(model, dataloader, points_per_scene=4000, scenes_per_batch=2, seed=0):
    """The instruments of one validation pass.

    Args:
        model: a LabelFreeSegmentor (compactness only) or HICLSegmentor (necks probed from stage 1 on), in eval
            mode.
        dataloader: the validation loader (scenes with true classes).
        points_per_scene: labelled points drawn per scene (uniformly, with ``seed``) for the compactness.
        scenes_per_batch: how many scenes form one token sequence of the inter-scene neck, as a training batch.
    Returns a dict: ``compactness`` and, with active necks, the :func:`neck_probe` values averaged over the
    groups of scenes (the necks see M = model.num_samples of each scene's drawn points, uniformly drawn since
    validation scenes carry no sets). NaN values are left out.
    """
    generator = torch.Generator().manual_seed(seed)
    drawn = []
    for data_batch in dataloader:
        for features, truth in scene_point_features(model, data_batch):
            labelled = (truth >= 0).nonzero()[:, 0]
            pick = labelled[torch.randperm(len(labelled), generator=generator)[:points_per_scene]]
            drawn.append((features[pick], truth[pick]))
    stats = dict(compactness=feature_compactness(torch.cat([f for f, _ in drawn]), torch.cat([t for _, t in drawn])))
    if getattr(model, 'has_necks', False) and model.stage >= 1:
        tokens = [(features[:model.num_samples], truth[:model.num_samples]) for features, truth in drawn]
        groups = [neck_probe(model, tokens[i:i + scenes_per_batch]) for i in range(0, len(tokens), scenes_per_batch)]
        for name in groups[0]:
            values = [group[name] for group in groups if name in group]
            stats[name] = sum(values) / len(values)
    return {name: value for name, value in stats.items() if not math.isnan(value)}
