"""The package's import graph: runtime code never reaches the offline converters, no module imports another
module's private name, and inside the package every import of hicl is relative."""
import ast
import subprocess
import sys

import pytest

from tests.conftest import REPO

PACKAGE = REPO / 'projects' / 'hicl' / 'hicl'
# What the runner loads: components registered by `import hicl`, and everything they use.
RUNTIME_PACKAGES = ('datasets', 'models', 'engine', 'evaluation')


def module_name(path):
    """Dotted name of a module file of the package, e.g. hicl.datasets.transforms.lidar."""
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported_modules(path):
    """(absolute module name, names imported from it, line) of every import in ``path``, lazy ones included."""
    package = module_name(path) if path.name == '__init__.py' else module_name(path).rpartition('.')[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            yield base, [alias.name for alias in node.names], node.lineno


def package_modules():
    return sorted(PACKAGE.rglob('*.py'))


def test_runtime_modules_never_import_a_converter():
    offenders = [f'{module_name(path)}:{line} imports {name}'
                 for path in package_modules() if (module_name(path) + '.').split('.')[1] in RUNTIME_PACKAGES
                 for name, _, line in imported_modules(path) if name.startswith('hicl.converters')]
    assert offenders == []


def test_vis_imports_nothing_of_the_packages_above_it():
    """hicl.vis draws plain arrays: it may use the package-root helpers (fileio, metrics) but none of evaluation,
    models, datasets, engine, inference, pseudo_labels or experiments (they pass palettes and predictions in)."""
    above = tuple(f'hicl.{name}' for name in ('evaluation', 'models', 'datasets', 'engine', 'inference',
                                              'pseudo_labels', 'experiments', 'converters'))
    vis_modules = {module_name(path) for path in (PACKAGE / 'vis').rglob('*.py')}
    offenders = [f'{module_name(path)}:{line} imports {name}' for path in sorted((PACKAGE / 'vis').rglob('*.py'))
                 for name, _, line in imported_modules(path)
                 if name.startswith(above) or (name.startswith('hicl.vis.') and name not in vis_modules)]
    assert offenders == []


def test_importing_hicl_loads_no_converter():
    code = 'import sys, hicl; print(sorted(m for m in sys.modules if m.startswith("hicl.converters")))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'


def test_no_module_imports_a_private_name_of_another_module():
    offenders = [f'{module_name(path)}:{line} imports {name} from {source}'
                 for path in package_modules() for source, names, line in imported_modules(path)
                 for name in names if name.startswith('_') and not name.startswith('__')]
    assert offenders == []


def test_imports_inside_the_package_are_relative():
    offenders = []
    for path in package_modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or '').split('.')[0] == 'hicl':
                offenders.append(f'{module_name(path)}:{node.lineno} from {node.module}')
            elif isinstance(node, ast.Import):
                offenders += [f'{module_name(path)}:{node.lineno} import {alias.name}' for alias in node.names
                              if alias.name.split('.')[0] == 'hicl']
    assert offenders == []


@pytest.mark.parametrize('split, dataset, name', [('train', 'scannet', 'hicl_infos_train.pkl'),
                                                  ('val', 'nuscenes', 'hicl_nuscenes_infos_val.pkl')])
def test_info_file_name_is_spelled_once_for_both_converters(split, dataset, name):
    from hicl.dataset_io import info_file_name
    assert info_file_name(split, dataset) == name


def test_info_file_name_of_an_unknown_dataset_names_the_choices():
    from hicl.dataset_io import info_file_name
    with pytest.raises(ValueError, match=r"unknown dataset 'kitti'.*\['nuscenes', 'scannet'\]"):
        info_file_name('train', 'kitti')
