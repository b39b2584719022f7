"""Checkpoints: checked when loaded (keys, shapes, version metadata, label set), written atomically, the previous
best deleted only after the new one is complete, clear errors for files that hold no checkpoint."""
import builtins
import collections
import os

import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from hicl.compat import CheckpointFileError
from hicl.engine import NonFiniteError
from hicl.engine.checkpoints import (CheckpointMismatchError, check_trained_settings, recorded_config_value,
                                     state_dict_mismatches)
from hicl.engine.export import export_3d_net
from hicl.inference import build_split_dataset, load_inference_model
from hicl.label_sets import SCANNET20_CLASSES
from tests.test_training import tiny_config


def state(**shapes):
    """An OrderedDict state_dict of zero tensors with the given shapes and version metadata."""
    result = collections.OrderedDict((key.replace('__', '.'), torch.zeros(shape)) for key, shape in shapes.items())
    result._metadata = collections.OrderedDict({'': dict(version=1)})
    return result


def test_mismatches_name_missing_unexpected_and_mis_shaped_keys():
    model = state(backbone__w=(2, 3), backbone__b=(3,), decode_head__t=(4, 2))
    checkpoint = state(backbone__w=(3, 2), decode_head__t=(4, 2), head__extra=(1,))
    assert state_dict_mismatches(model, checkpoint) == [
        'missing keys: backbone.b', 'unexpected keys: head.extra', 'mis-shaped keys: backbone.w (3, 2) (model (2, 3))']
    assert state_dict_mismatches(model, model) == []


def test_the_correlation_necks_may_be_absent_on_either_side():
    net = state(backbone__w=(2,))
    with_necks = state(backbone__w=(2,), intra_scene_neck__w=(5,), inter_scene_neck__w=(5,))
    assert state_dict_mismatches(net, with_necks) == []  # tools/test.py: the necks are ignored
    assert state_dict_mismatches(with_necks, net) == []  # load_from an EXP I checkpoint into HICL


def test_a_state_dict_without_version_metadata_is_named():
    plain = collections.OrderedDict(backbone_w=torch.zeros(2))
    assert state_dict_mismatches(state(backbone_w=(2,)), plain) == [
        'no module version metadata (state_dict._metadata): sparse-conv weights would be read in the wrong layout; '
        're-export the net from its training checkpoint with tools/export_3d_net.py']


VOXEL_SIZE = 'model.data_preprocessor.voxel_layer.voxel_size'


def test_label_set_check_names_both_sets():
    check_trained_settings(dict(dataset_meta=dict(classes=('a', 'b'))), {}, ('a', 'b'), 'ckpt')
    check_trained_settings({}, {}, ('a', 'b'), 'ckpt')  # nothing recorded: nothing to compare
    with pytest.raises(CheckpointMismatchError, match=r"ckpt was trained with other settings than this config:\n  "
                                                      r"the label set: trained on \['car', 'road'\] \(2 classes\), "
                                                      r"this config's dataset has \['a', 'b'\]"):
        check_trained_settings(dict(dataset_meta=dict(classes=('car', 'road'))), {}, ('a', 'b'), 'ckpt')


def test_the_recorded_config_is_read_without_running_it(synthrooms_tiny, tmp_path):
    text = tiny_config(synthrooms_tiny, tmp_path, max_epochs=1).pretty_text  # what mmengine puts in meta['cfg']
    assert recorded_config_value(text, VOXEL_SIZE) == [0.1, 0.1, 0.1]
    assert recorded_config_value(text, 'train_cfg.max_epochs') == 1
    assert recorded_config_value(text, 'model.no_such_key') is None
    marker = tmp_path / 'ran'
    assert recorded_config_value(f'model = __import__("pathlib").Path("{marker}").touch()', VOXEL_SIZE) is None
    assert recorded_config_value('model = dict(', VOXEL_SIZE) is None  # does not parse
    assert not marker.exists()


@pytest.fixture
def net_checkpoint(synthrooms_tiny, tmp_path):
    """(config, path, checkpoint dict) of a checkpoint of the tiny config's 3D net, trained on its classes."""
    cfg = tiny_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    init_default_scope('mmdet3d')
    checkpoint = dict(meta=dict(dataset_meta=dict(classes=SCANNET20_CLASSES)),
                      state_dict=MODELS.build(cfg.model).state_dict())
    return cfg, tmp_path / 'net.pth', checkpoint


def test_runner_tests_the_weights_of_the_checkpoint(net_checkpoint):
    """A checkpoint whose head puts every point at the 'chair' anchor predicts chair everywhere, so its mIoU
    follows by hand from the true classes: IoU(chair) = chair points / labelled points, 0 for every other true
    class, and the classes neither true nor predicted do not count."""
    cfg, path, checkpoint = net_checkpoint
    state = checkpoint['state_dict']
    chair = SCANNET20_CLASSES.index('chair')
    state['decode_head.conv_seg.weight'].zero_()
    state['decode_head.conv_seg.bias'].copy_(10 * state['decode_head.text_anchors'][chair])
    torch.save(checkpoint, path)
    cfg.load_from = str(path)
    metrics = Runner.from_cfg(cfg).test()
    dataset = build_split_dataset(cfg, 'test')
    truth = np.concatenate([dataset[i]['data_samples'].eval_ann_info['pts_semantic_mask']
                            for i in range(len(dataset))])
    labelled = truth[truth < len(SCANNET20_CLASSES)]
    counted = len(set(labelled.tolist()) | {chair})
    assert 0 < (labelled == chair).sum() < len(labelled)  # the scene has chairs and other things
    assert metrics['miou'] == pytest.approx((labelled == chair).mean() / counted, abs=1e-4)
    assert metrics['chair'] == pytest.approx((labelled == chair).mean(), abs=1e-4)


def backbone_key(checkpoint):
    return next(key for key in checkpoint['state_dict'] if key.startswith('backbone.') and key.endswith('weight'))


def drop_a_key(checkpoint):
    key = backbone_key(checkpoint)
    del checkpoint['state_dict'][key]
    return f'missing keys: {key}'


def reshape_a_key(checkpoint):
    key = backbone_key(checkpoint)
    checkpoint['state_dict'][key] = checkpoint['state_dict'][key][..., :1]
    return f'mis-shaped keys: {key}'


def other_classes(checkpoint):
    checkpoint['meta']['dataset_meta']['classes'] = ('car', 'road')
    return r"the label set: trained on \['car', 'road'\]"


def other_voxel_size(checkpoint):
    checkpoint['meta']['cfg'] = 'model = dict(data_preprocessor=dict(voxel_layer=dict(voxel_size=[0.05, 0.05, 0.05])))'
    return (rf'{VOXEL_SIZE}: trained with \[0.05, 0.05, 0.05\], this config has \[0.1, 0.1, 0.1\](.|\n)*'
            'pass --allow-settings-mismatch')


@pytest.mark.parametrize('spoil', [drop_a_key, reshape_a_key, other_classes, other_voxel_size])
def test_runner_refuses_a_checkpoint_that_does_not_fit(net_checkpoint, spoil):
    cfg, path, checkpoint = net_checkpoint
    message = spoil(checkpoint)
    torch.save(checkpoint, path)
    cfg.load_from = str(path)
    with pytest.raises(CheckpointMismatchError, match=f'checkpoint {path}(.|\n)*{message}'):
        Runner.from_cfg(cfg).test()


def test_a_checkpoint_of_another_voxel_size_is_tested_with_a_warning_when_allowed(net_checkpoint):
    cfg, path, checkpoint = net_checkpoint
    other_voxel_size(checkpoint)
    torch.save(checkpoint, path)
    cfg.load_from = str(path)
    cfg.default_hooks.checkpoint.allow_settings_mismatch = True
    expected = rf'{VOXEL_SIZE}: trained with \[0.05, 0.05, 0.05\](.|\n)*used anyway, as asked'
    with pytest.warns(UserWarning, match=expected):
        Runner.from_cfg(cfg).test()


def test_non_finite_weights_are_refused_by_every_loader(net_checkpoint, tmp_path):
    """tools/test.py (the runner), tools/export_3d_net.py and the inference tools (query, visualize) alike."""
    cfg, path, checkpoint = net_checkpoint
    key = backbone_key(checkpoint)
    checkpoint['state_dict'][key].view(-1)[3] = float('nan')
    torch.save(checkpoint, path)
    message = (rf'checkpoint {path} has non-finite weights \(NaN or Inf\) in 1 of \d+ tensors: {key}\. The '
               'training that wrote it diverged')
    with pytest.raises(NonFiniteError, match=message):
        export_3d_net(cfg, str(path), str(tmp_path / 'exported.pth'))
    assert not (tmp_path / 'exported.pth').exists()
    with pytest.raises(NonFiniteError, match=message):
        load_inference_model(cfg, str(path))
    cfg.load_from = str(path)
    with pytest.raises(NonFiniteError, match=message):
        Runner.from_cfg(cfg).test()


def test_files_that_hold_no_checkpoint_get_clear_errors(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    empty = tmp_path / 'empty.pth'
    empty.touch()
    with pytest.raises(CheckpointFileError, match=f'{empty} is empty'):
        _load_checkpoint(str(empty))
    with pytest.raises(CheckpointFileError, match=f'{tmp_path} is a folder, not a checkpoint file'):
        _load_checkpoint(str(tmp_path))
    truncated = tmp_path / 'truncated.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(1000))), truncated)
    truncated.write_bytes(truncated.read_bytes()[:500])
    with pytest.raises(CheckpointFileError, match=f'{truncated} is truncated or not a checkpoint'):
        _load_checkpoint(str(truncated))


# --- saving --------------------------------------------------------------------------------------------------

class DiskFull:
    """``open`` for the checkpoint files whose name contains ``marker``: a writer that stores half of what it is
    given, then fails (as a full disk or a killed process leaves a file)."""

    def __init__(self, monkeypatch, marker):
        real_open = builtins.open

        class HalfWriter:
            def __init__(self, file):
                self.file = file

            def write(self, data):
                self.file.write(data[:len(data) // 2])
                self.file.flush()
                raise OSError(28, 'No space left on device')

            def __getattr__(self, name):
                return getattr(self.file, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.file.close()

        def failing_open(path, mode='r', *args, **kwargs):
            file = real_open(path, mode, *args, **kwargs)
            return HalfWriter(file) if 'w' in mode and marker in os.path.basename(str(path)) else file

        monkeypatch.setattr(builtins, 'open', failing_open)


def checkpoint_files(work_dir):
    return sorted(name for name in os.listdir(work_dir) if '.pth' in name)


def test_a_failed_save_leaves_the_previous_checkpoints_complete(synthrooms_tiny, tmp_path, monkeypatch):
    cfg = tiny_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    runner = Runner.from_cfg(cfg)
    runner.train()
    work_dir = tmp_path / 'work'
    assert checkpoint_files(work_dir) == ['best_miou_epoch_1.pth', 'epoch_1.pth']
    before = {name: (work_dir / name).read_bytes() for name in checkpoint_files(work_dir)}
    hook = next(hook for hook in runner.hooks if type(hook).__name__ == 'SafeCheckpointHook')
    with monkeypatch.context() as patch:  # the saves of a second epoch: epoch_2.pth, a better best_miou_epoch_2.pth
        DiskFull(patch, 'epoch_2')
        runner.train_loop._epoch = 1  # during epoch 2 (0-based 1)
        with pytest.raises(OSError, match='No space left'):
            hook._save_checkpoint(runner)
        runner.train_loop._epoch = 2  # validation after epoch 2
        with pytest.raises(OSError, match='No space left'):
            hook._save_best_checkpoint(runner, dict(miou=2.0))
    assert checkpoint_files(work_dir) == sorted(before)  # no truncated file, no temporary file left
    assert {name: (work_dir / name).read_bytes() for name in before} == before  # the previous best is still there
    assert torch.load(work_dir / 'best_miou_epoch_1.pth', weights_only=False)['state_dict']

    # a run resumed from epoch_1.pth knows best_miou_epoch_1.pth as its best; its next best save succeeds, and
    # only then the previous best goes (the best save also rewrites epoch_2.pth with the new best score)
    hook.best_ckpt_path = str(work_dir / 'best_miou_epoch_1.pth')
    hook._save_best_checkpoint(runner, dict(miou=3.0))
    assert checkpoint_files(work_dir) == ['best_miou_epoch_2.pth', 'epoch_1.pth', 'epoch_2.pth']
    assert torch.load(work_dir / 'best_miou_epoch_2.pth', weights_only=False)['state_dict']
