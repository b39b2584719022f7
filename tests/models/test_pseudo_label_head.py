"""The pseudo-label head and Eq. 1 against hand computations."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from hicl.models import PseudoLabelHead
from hicl.models.losses import cross_modal_ce_loss
from hicl.pseudo_labels.anchors import save_text_anchors


@pytest.fixture
def anchors_file(tmp_path):
    path = tmp_path / 'anchors.npz'
    save_text_anchors(str(path), np.eye(3, 4, dtype=np.float32), ['a', 'b', 'c'], dict(kind='test'))
    return str(path)


def make_head(anchors_file, **kwargs):
    head = PseudoLabelHead(channels=2, num_classes=3, anchors_file=anchors_file, embed_dim=4, **kwargs)
    with torch.no_grad():  # f = (x0, x1, 0, 0): logits <f, T_c> are (x0, x1, 0)
        head.conv_seg.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [0, 0], [0, 0]]))
        head.conv_seg.bias.zero_()
    return head


def sample(point2voxel, point_idx, labels):
    ds = BaseDataElement()
    ds.point2voxel_map = torch.tensor(point2voxel)
    ds.batch_idx = torch.zeros(max(point2voxel) + 1, dtype=torch.long)
    ds.pseudo_pairs = BaseDataElement(point_idx=torch.tensor(point_idx), label=torch.tensor(labels),
                                      view_idx=torch.zeros(len(point_idx), dtype=torch.long))
    return ds


def test_logits_are_inner_products_with_fixed_anchors(anchors_file):
    head = make_head(anchors_file)
    x = torch.tensor([[2.0, -1.0]])
    assert torch.allclose(head(x), torch.tensor([[2.0, -1.0, 0.0]]))
    assert not head.text_anchors.requires_grad and 'text_anchors' in head.state_dict()


def test_eq1_loss_over_pairs_through_voxel_map_and_batch(anchors_file):
    head = make_head(anchors_file)
    # sample 0: 3 points in voxels [0, 0, 1]; sample 1: 2 points in voxels [0, 1] -> global voxels 2, 3
    voxel_feats = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], requires_grad=True)
    samples = [sample([0, 0, 1], [1, 2, 2], [0, 1, 2]), sample([0, 1], [1], [0])]
    loss = head.loss_by_feat(head(voxel_feats), samples)['loss_ce']
    # pairs -> (voxel, label): (0, 0), (1, 1), (1, 2), (3, 0); logits of voxel v are (x0, x1, 0)
    logits = np.array([[2.0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0]])
    labels = [0, 1, 2, 0]
    expected = -np.mean([logits[i, l] - np.log(np.exp(logits[i]).sum()) for i, l in enumerate(labels)])
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert torch.all(voxel_feats.grad[2] == 0)  # voxel 2 of the batch has no pair


def test_eq1_gradient_is_softmax_minus_onehot_times_anchors():
    anchors = torch.eye(3, 4)
    f = torch.tensor([[0.5, -0.2, 0.1, 0.3]], requires_grad=True)
    loss = cross_modal_ce_loss(f @ anchors.t(), torch.tensor([2]))
    loss.backward()
    p = torch.softmax(f.detach() @ anchors.t(), dim=1)
    expected = (p - torch.tensor([[0.0, 0, 1]])) @ anchors
    assert torch.allclose(f.grad, expected, atol=1e-6)


def test_eq1_leaves_out_the_unlabelled_pairs():
    # 3 classes; the middle pair is unlabelled (255): the loss is the mean over the other two pairs only
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 9.0, 0.0], [5.0, -3.0, 0.0]])
    expected = -np.mean([2 - np.log(np.exp(2) + 2), -3 - np.log(np.exp(5) + np.exp(-3) + 1)])
    assert cross_modal_ce_loss(logits, torch.tensor([0, 255, 1])).item() == pytest.approx(expected, rel=1e-6)


def test_no_labelled_pair_gives_zero_loss_with_graph():
    logits = torch.zeros(2, 3, requires_grad=True)
    loss = cross_modal_ce_loss(logits, torch.tensor([255, 255]))
    assert loss.item() == 0 and loss.requires_grad


def test_anchor_file_mismatch_errors(anchors_file, tmp_path):
    with pytest.raises(ValueError, match='holds 3 text anchors but num_classes=5'):
        PseudoLabelHead(channels=2, num_classes=5, anchors_file=anchors_file, embed_dim=4)
    with pytest.raises(ValueError, match='4-d anchors, but embed_dim=512'):
        PseudoLabelHead(channels=2, num_classes=3, anchors_file=anchors_file)
    with pytest.raises(FileNotFoundError, match='make_text_embeddings.py'):
        PseudoLabelHead(channels=2, num_classes=3, anchors_file=str(tmp_path / 'missing.npz'), embed_dim=4)
