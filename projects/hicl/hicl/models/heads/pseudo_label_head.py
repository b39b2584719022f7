"""The pseudo-label head: 3D features -> CLIP space, classified against fixed text anchors (paper 3.1)."""
import torch
from mmdet3d.models.decode_heads import MinkUNetHead
from mmdet3d.registry import MODELS
from torch import nn

from ...pseudo_labels.anchors import load_text_anchors
from ..losses import cross_modal_ce_loss, text_anchor_logits
from ..point_voxels import batch_voxel_index


@MODELS.register_module()
class PseudoLabelHead(MinkUNetHead):
    """Linear map of per-voxel backbone features to the CLIP dimension; logits are inner products with
    FIXED text anchors T (C, D) read from ``anchors_file`` (tools/make_text_embeddings.py).

    Training uses the pairs packed by PackLabelFreeInputs (``data_samples.pseudo_pairs``) with Eq. 1;
    prediction (inherited) returns logits for every original point through ``point2voxel_map``.

    Args:
        channels: backbone output channels.
        num_classes: C, must equal the number of anchors in the file.
        anchors_file: .npz text-anchor file; its class names must equal ``class_names`` when both are given.
        embed_dim: D, the CLIP dimension (512 for ViT-B/16).
    """

    def __init__(self, channels, num_classes, anchors_file, embed_dim=512, class_names=None, dropout_ratio=0.0,
                 ignore_index=255, **kwargs):
        self.embed_dim = embed_dim
        super().__init__(channels=channels, num_classes=num_classes, dropout_ratio=dropout_ratio,
                         ignore_index=ignore_index, **kwargs)
        anchors = load_text_anchors(anchors_file, class_names=class_names, embed_dim=embed_dim)
        if len(anchors) != num_classes:
            raise ValueError(f'{anchors_file} holds {len(anchors)} text anchors but num_classes={num_classes}')
        # Fixed during training (paper 3.1); saved with the weights so a checkpoint is self-contained.
        self.register_buffer('text_anchors', torch.as_tensor(anchors, dtype=torch.float32))

    def set_text_anchors(self, anchors):
        """Classify against other (V, D) anchors from now on (open vocabulary at test time); the features are
        unchanged, so prediction v means the v-th new anchor. Raises ValueError unless D is the head's."""
        anchors = torch.as_tensor(anchors, dtype=torch.float32, device=self.text_anchors.device)
        if anchors.ndim != 2 or anchors.shape[1] != self.embed_dim:
            raise ValueError(f'new text anchors must be (V, {self.embed_dim}), got {tuple(anchors.shape)}: make '
                             'them with the CLIP model the training anchors came from')
        self.text_anchors, self.num_classes = anchors, len(anchors)

    def build_conv_seg(self, channels, num_classes, kernel_size):
        return nn.Linear(channels, self.embed_dim)

    def embed(self, x):
        """(N, channels) voxel features -> (N, D) features f in the CLIP space."""
        return self.conv_seg(self.dropout(x) if self.dropout is not None else x)

    def forward(self, x):
        """(N, channels) voxel features -> (N, C) logits <f, T_c>."""
        return text_anchor_logits(self.embed(x), self.text_anchors)

    def loss_by_feat(self, seg_logits, batch_data_samples):
        """Eq. 1 over the pairs of every sample; a pair's logits are those of its point's voxel."""
        pairs = [data_sample.pseudo_pairs for data_sample in batch_data_samples]
        pair_voxels = batch_voxel_index(batch_data_samples, [scene_pairs.point_idx for scene_pairs in pairs])
        logits = seg_logits[torch.cat(pair_voxels)]
        labels = torch.cat([scene_pairs.label for scene_pairs in pairs])
        return dict(loss_ce=cross_modal_ce_loss(logits, labels, self.ignore_index))
