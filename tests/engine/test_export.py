"""tools/export_3d_net.py: the 3D net's own state_dict (version metadata included), checked against the config;
clear errors; nothing half-written."""
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope

from hicl.engine.checkpoints import CheckpointMismatchError
from hicl.engine.export import export_3d_net
from tests.test_training import tiny_hicl_config


@pytest.fixture
def hicl_training_checkpoint(synthrooms_tiny, tmp_path):
    """(config, path) of a checkpoint shaped like a HICL training checkpoint: the whole model (necks included),
    optimizer states and meta."""
    cfg = tiny_hicl_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    init_default_scope('mmdet3d')
    model = MODELS.build(cfg.model)
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1, dataset_meta=dict(classes=('wall', 'floor'))),
                    optimizer=dict(net={}, necks={}), state_dict=model.state_dict()), path)
    return cfg, path, model.state_dict()


def test_the_net_is_kept_with_its_version_metadata_and_the_necks_are_left_out(hicl_training_checkpoint, tmp_path):
    cfg, source, model_state = hicl_training_checkpoint
    out = tmp_path / 'out' / 'net.pth'
    kept, dropped = export_3d_net(cfg, str(source), str(out))
    exported = torch.load(out, weights_only=True)
    net_keys = [key for key in model_state if not key.startswith(('intra_scene_neck.', 'inter_scene_neck.'))]
    assert (kept, dropped) == (len(net_keys), len(model_state) - len(net_keys)) and dropped > 0
    assert set(exported) == {'meta', 'state_dict'} and exported['meta']['dataset_meta']['classes'] == ('wall', 'floor')
    assert list(exported['state_dict']) == net_keys
    assert all(torch.equal(exported['state_dict'][key], model_state[key]) for key in net_keys)
    # the module versions that tell mmdet3d's sparse-conv loader the weight layout
    assert exported['state_dict']._metadata['backbone.conv_input.0'] == model_state._metadata['backbone.conv_input.0']


def test_a_checkpoint_that_does_not_fit_the_config_is_refused_and_nothing_is_written(
        hicl_training_checkpoint, tmp_path):
    cfg, source, model_state = hicl_training_checkpoint
    checkpoint = torch.load(source, weights_only=False)
    removed = next(key for key in model_state if key.startswith('backbone.'))
    del checkpoint['state_dict'][removed]
    checkpoint['state_dict']['backbone.extra.weight'] = torch.ones(1)
    torch.save(checkpoint, source)
    with pytest.raises(CheckpointMismatchError, match=f'missing keys: {removed}(.|\n)*unexpected keys: '
                                                      'backbone.extra.weight'):
        export_3d_net(cfg, str(source), str(tmp_path / 'net.pth'))
    assert not (tmp_path / 'net.pth').exists()


def test_a_file_without_weights_is_refused_and_nothing_is_written(hicl_training_checkpoint, tmp_path):
    cfg = hicl_training_checkpoint[0]
    source = tmp_path / 'not_a_checkpoint.pth'
    torch.save(dict(meta={}), source)
    with pytest.raises(KeyError, match='not_a_checkpoint.pth has no state_dict'):
        export_3d_net(cfg, str(source), str(tmp_path / 'net.pth'))
    assert not (tmp_path / 'net.pth').exists()
