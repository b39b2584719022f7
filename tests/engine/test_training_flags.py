"""tools/train.py --amp and --auto-scale-lr, tools/test.py --device: what they change in the built runner, the
shared loss scaler of the two optimizers against PyTorch's recipe computed by hand, and their refusals."""
import mmengine.optim.optimizer.amp_optimizer_wrapper as amp_module
import pytest
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner import Runner

from hicl.engine.optimizers import JointOptimWrapperDict
from hicl.engine.runtime import (TrainingOptionError, configure_amp, configure_auto_scale_lr, inference_only,
                                 resolve_device)
from tests.test_training import tiny_hicl_config


@pytest.fixture
def cuda_for_amp(monkeypatch):
    """mmengine's AmpOptimWrapper asserts a CUDA device at construction; its loss scaler (torch.cuda.amp's
    GradScaler) then disables itself on this CPU machine, which is all the construction tests need."""
    monkeypatch.setattr(amp_module, 'is_cuda_available', lambda: True)


def test_amp_makes_both_optimizers_amp_wrappers_sharing_one_loss_scaler(
        synthrooms_tiny, tmp_path, monkeypatch, cuda_for_amp):
    cfg = tiny_hicl_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    with monkeypatch.context() as patch:
        patch.setattr(torch.cuda, 'is_available', lambda: True)
        configure_amp(cfg)
    assert cfg.optim_wrapper.type == cfg.optim_wrapper.necks.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == cfg.optim_wrapper.necks.loss_scale == 'dynamic'
    runner = Runner.from_cfg(cfg)
    wrappers = runner.build_optim_wrapper(runner.optim_wrapper)  # what Runner.train builds
    assert isinstance(wrappers, JointOptimWrapperDict)
    kinds = {name: type(wrapper) for name, wrapper in wrappers.items()}
    assert kinds == dict(net=AmpOptimWrapper, necks=AmpOptimWrapper)
    assert wrappers['net'].loss_scaler is wrappers['necks'].loss_scaler is wrappers.loss_scaler


def test_amp_on_a_machine_without_cuda_is_refused(synthrooms_tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = tiny_hicl_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    with pytest.raises(TrainingOptionError, match=r'--amp needs a CUDA GPU .* train without --amp'):
        configure_amp(cfg)


def amp_pair(scale):
    """(JointOptimWrapperDict of two AmpOptimWrapper (SGD lr 0.1, no momentum) on one parameter each, the two
    parameters), sharing a CPU GradScaler with initial scale ``scale`` (growth only after 1000 good steps)."""
    net_weight = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    neck_weight = torch.nn.Parameter(torch.tensor([3.0]))
    wrappers = {name: AmpOptimWrapper(optimizer=torch.optim.SGD([weight], lr=0.1), loss_scale='dynamic')
                for name, weight in (('net', net_weight), ('necks', neck_weight))}
    wrappers['net'].loss_scaler = torch.amp.GradScaler('cpu', init_scale=scale, growth_interval=1000)
    return JointOptimWrapperDict(**wrappers), net_weight, neck_weight


def test_one_scaled_backward_steps_both_optimizers_with_the_unscaled_gradients(cuda_for_amp):
    joint, net_weight, neck_weight = amp_pair(scale=8.0)
    loss = (net_weight * torch.tensor([0.5, -1.0])).sum() + 4.0 * neck_weight.sum()
    joint.update_params(loss)
    # SGD on the true gradients (0.5, -1) and 4: the scale of 8 divided out exactly once.
    assert net_weight.detach().tolist() == pytest.approx([1.0 - 0.05, 2.0 + 0.1])
    assert neck_weight.detach().tolist() == pytest.approx([3.0 - 0.4])
    assert joint.loss_scaler.get_scale() == 8.0
    assert net_weight.grad is None or not net_weight.grad.any()  # zeroed for the next iteration


def test_an_infinite_gradient_skips_its_optimizer_and_halves_the_scale_once(cuda_for_amp):
    joint, net_weight, neck_weight = amp_pair(scale=8.0)
    loss = (net_weight * torch.tensor([0.5, -1.0])).sum() + (neck_weight * torch.tensor(float('inf'))).sum()
    joint.update_params(loss)
    assert net_weight.detach().tolist() == pytest.approx([0.95, 2.1])  # finite gradients: stepped
    assert neck_weight.detach().tolist() == [3.0]  # skipped
    assert joint.loss_scaler.get_scale() == 4.0  # backoff 0.5, applied once per iteration


def test_mixed_wrapper_kinds_are_refused(cuda_for_amp):
    weight = torch.nn.Parameter(torch.ones(1))
    with pytest.raises(ValueError, match='entries that are all OptimWrapper or all AmpOptimWrapper'):
        JointOptimWrapperDict(net=AmpOptimWrapper(optimizer=torch.optim.SGD([weight], lr=0.1)),
                              necks=OptimWrapper(optimizer=torch.optim.SGD([weight], lr=0.1)))


def test_auto_scale_lr_scales_the_net_and_the_necks_by_the_batch_over_the_base(synthrooms_tiny, tmp_path):
    cfg = tiny_hicl_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)  # batch 2 on one process
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=4)  # the demos' schedule states it
    configure_auto_scale_lr(cfg)
    runner = Runner.from_cfg(cfg)
    wrappers = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.scale_lr(wrappers, runner.auto_scale_lr)  # as Runner.train does, before the schedulers
    assert wrappers['net'].optimizer.param_groups[0]['lr'] == pytest.approx(cfg.optim_wrapper.optimizer.lr * 2 / 4)
    assert wrappers['necks'].optimizer.param_groups[0]['lr'] == pytest.approx(
        cfg.optim_wrapper.necks.optimizer.lr * 2 / 4)


def test_auto_scale_lr_without_a_base_batch_size_is_refused(synthrooms_tiny, tmp_path):
    cfg = tiny_hicl_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    cfg.auto_scale_lr = dict(enable=False)
    with pytest.raises(TrainingOptionError, match='states no auto_scale_lr.base_batch_size'):
        configure_auto_scale_lr(cfg)


def test_the_device_is_the_named_one_or_cuda_when_there_is_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert resolve_device() == resolve_device('auto') == 'cpu' and resolve_device('cpu') == 'cpu'
    with pytest.raises(TrainingOptionError, match='device cuda: torch.cuda.is_available.. is False'):
        resolve_device('cuda')
    with pytest.raises(TrainingOptionError, match="device 'tpu': choose one of"):
        resolve_device('tpu')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert resolve_device() == 'cuda' and resolve_device('cpu') == 'cpu'


def test_inference_configs_keep_no_training_flags(synthrooms_tiny, tmp_path, monkeypatch, cuda_for_amp):
    """An --amp config still tests as a plain net: tools/test.py drops the necks and never steps an optimizer."""
    cfg = tiny_hicl_config(synthrooms_tiny, tmp_path / 'work', max_epochs=1)
    with monkeypatch.context() as patch:
        patch.setattr(torch.cuda, 'is_available', lambda: True)
        configure_amp(cfg)
    assert inference_only(cfg).model.intra_scene_neck is None
