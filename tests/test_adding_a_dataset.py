"""docs/adding_a_dataset.md, run as written: its files and commands turn a few SynthRooms scans into a 5-class
dataset and train 2 iterations on it. Also the label-set registry and the dataset's label-set check."""
import os
import re
import shlex
import subprocess
import sys

import pytest

from hicl.label_sets import LABEL_SETS, get_label_set, register_label_set, seg_metainfo
from tests.conftest import REPO

GUIDE = REPO / 'docs' / 'adding_a_dataset.md'
FENCED = re.compile(r'```(?:python|bash)\n(.*?)```', re.S)
# The guide's placeholders and what the test puts in their place.
CONFIG_PATH = 'configs/rooms5.py'


def guide_blocks():
    """({file name: text} of the blocks that start with '# file: NAME', [command lines of the '# steps' block])."""
    files, commands = {}, []
    for block in FENCED.findall(GUIDE.read_text()):
        first, _, rest = block.partition('\n')
        if first.startswith('# file: '):
            files[first[len('# file: '):].strip()] = rest
        elif first.strip() == '# steps':
            commands = [line for line in rest.splitlines() if line.strip() and not line.startswith('#')]
    return files, commands


def run(command, env, timeout=600):
    out = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f'{shlex.join(command)}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}'
    return out.stdout + out.stderr


def test_the_guide_turns_scannet_layout_scans_into_a_5_class_dataset_that_trains(synthrooms_tiny, tmp_path):
    files, commands = guide_blocks()
    assert set(files) == {'rooms5_label_set.py', CONFIG_PATH} and len(commands) == 4
    modules, data = tmp_path / 'modules', tmp_path / 'rooms5'
    modules.mkdir()
    (modules / 'rooms5_label_set.py').write_text(files['rooms5_label_set.py'])
    config = tmp_path / 'rooms5.py'
    config.write_text(files[CONFIG_PATH].replace("'./", f"'{REPO / 'configs'}/").replace("'DATA/'", f"'{data}/'"))
    env = dict(os.environ, PYTHONPATH=f'{modules}{os.pathsep}{os.environ.get("PYTHONPATH", "")}',
               OMP_NUM_THREADS='1')
    fast = ['--work-dir', str(tmp_path / 'work'), '--cfg-options', 'train_cfg.max_epochs=2',
            'default_hooks.logger.interval=1'] + [f'{loader}_dataloader.{key}={value}' for loader in ('train', 'val')
                                                  for key, value in (('num_workers', 0),
                                                                     ('persistent_workers', False))]
    logs = []
    for line in commands:
        command = [sys.executable] + [word.replace('RAW', str(synthrooms_tiny / 'raw')).replace('DATA', str(data))
                                      .replace(CONFIG_PATH, str(config)) for word in shlex.split(line)[1:]]
        logs.append(run(command + (fast if command[1].endswith('train.py') else []), env))
    assert 'train: ' in logs[0] and (data / 'hicl_infos_train.pkl').is_file()
    assert 'mIoU' in logs[2]  # the pseudo-labels scored against the frames' true 2D labels
    log = logs[3]
    assert 'Epoch(train) [2][1/1]' in log  # 2 train rooms at batch 2: one iteration per epoch, 2 epochs
    # the validation's metrics are per class of the label set, and of no other
    classes = get_label_set_in_subprocess('rooms5', env)
    assert classes == ['wall', 'floor', 'bed', 'chair', 'table']
    validation = next(line for line in log.splitlines() if 'Epoch(val) [2]' in line and 'miou' in line)
    scored = [name.strip() for name in re.findall(r'  ([a-z ]+): [0-9.]+', validation.split('INFO - ')[-1])]
    per_class = [name for name in scored if name not in ('miou', 'acc', 'acc cls', 'data time', 'time')]
    assert {'wall', 'floor'} <= set(per_class) <= set(classes)  # the classes the val room has, of the 5 only
    assert (tmp_path / 'work' / 'epoch_2.pth').is_file()


def get_label_set_in_subprocess(name, env):
    """The classes of label set ``name`` as the guide's module registers it (imported in a fresh process)."""
    code = (f'import rooms5_label_set\nfrom hicl.label_sets import get_label_set\n'
            f'print(*get_label_set({name!r})["classes"], sep="|")')
    return run([sys.executable, '-c', code], env).strip().splitlines()[-1].split('|')


def test_a_label_set_is_registered_once_and_bad_ones_are_refused():
    entry = register_label_set('test_toy3', ('a', 'b', 'c'), raw_ids=(3, 1, 7), palette=[(1, 2, 3)] * 3)
    try:
        assert entry['raw_to_train'] == (3, 1, 3, 0, 3, 3, 3, 2) and entry['ignore_index'] == 3
        assert entry['image_raw_ids'] == (3, 1, 7)
        assert register_label_set('test_toy3', ('a', 'b', 'c'), raw_ids=(3, 1, 7), palette=[(1, 2, 3)] * 3) == entry
        with pytest.raises(ValueError, match="label set 'test_toy3' is registered already with other contents"):
            register_label_set('test_toy3', ('a', 'b', 'x'), raw_ids=(3, 1, 7))
        meta = seg_metainfo('test_toy3')
        assert meta['seg_valid_class_ids'] == (3, 1, 7) and len(meta['seg_all_class_ids']) == 7
    finally:
        LABEL_SETS.pop('test_toy3')
    with pytest.raises(ValueError, match='raw_ids must be 2 distinct ids'):
        register_label_set('test_bad', ('a', 'b'), raw_ids=(1, 1))
    with pytest.raises(ValueError, match='give raw_ids .* or raw_to_train'):
        register_label_set('test_bad', ('a', 'b'))
    with pytest.raises(ValueError, match='2 palette colours for 3 classes'):
        register_label_set('test_bad', ('a', 'b', 'c'), raw_ids=(1, 2, 3), palette=[(0, 0, 0)] * 2)
    with pytest.raises(KeyError, match="unknown label set 'test_bad'.*register_label_set"):
        get_label_set('test_bad')


def test_a_dataset_refuses_infos_converted_for_another_label_set(synthrooms_tiny):
    from mmdet3d.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet3d')
    register_label_set('test_rooms2', ('wall', 'floor'), raw_ids=(1, 2), max_raw_id=40)
    try:
        with pytest.raises(ValueError, match=r"hicl_infos_val.pkl was converted for the label set 'scannet20', but "
                                             r"the dataset is configured with label_set='test_rooms2'"):
            DATASETS.build(dict(type='LabelFreeScanNetDataset', data_root=str(synthrooms_tiny),
                                ann_file='hicl_infos_val.pkl', label_set='test_rooms2', pipeline=[]))
    finally:
        LABEL_SETS.pop('test_rooms2')


def test_the_inference_tools_take_the_classes_of_the_configs_label_set():
    from mmengine.config import Config

    from hicl.inference import config_classes
    cfg = Config.fromfile(str(REPO / 'configs' / 'baseline_synthrooms.py'))
    assert config_classes(cfg) == get_label_set('scannet20')['classes']  # the dataset class's default label set
    register_label_set('test_rooms2', ('wall', 'floor'), raw_ids=(1, 2), max_raw_id=40)
    try:
        cfg.test_dataloader.dataset.label_set = 'test_rooms2'
        assert tuple(config_classes(cfg)) == ('wall', 'floor')
    finally:
        LABEL_SETS.pop('test_rooms2')
