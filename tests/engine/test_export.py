"""tools/export_3d_net.py: the 3D net's tensors only, clear errors, nothing half-written."""
import pytest
import torch

from hicl.engine.export import export_3d_net


def test_necks_and_optimizer_are_left_out(tmp_path):
    source = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1), optimizer=dict(net={}, necks={}), state_dict={
        'backbone.w': torch.ones(2), 'decode_head.text_anchors': torch.eye(2), 'intra_scene_neck.a': torch.ones(1),
        'inter_scene_neck.b': torch.ones(1)}), source)
    assert export_3d_net(str(source), str(tmp_path / 'out' / 'net.pth')) == (2, 2)
    exported = torch.load(tmp_path / 'out' / 'net.pth', weights_only=True)
    assert exported['meta'] == dict(epoch=1) and sorted(exported['state_dict']) == ['backbone.w',
                                                                                    'decode_head.text_anchors']


def test_a_file_without_weights_is_refused_and_nothing_is_written(tmp_path):
    source = tmp_path / 'not_a_checkpoint.pth'
    torch.save(dict(meta={}), source)
    with pytest.raises(KeyError, match='not_a_checkpoint.pth has no state_dict'):
        export_3d_net(str(source), str(tmp_path / 'net.pth'))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['not_a_checkpoint.pth']
