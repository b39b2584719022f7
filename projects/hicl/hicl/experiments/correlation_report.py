"""Summaries of the correlation instruments a training logged (CorrelationInstrumentHook every ``interval`` steps
during training, CorrelationProbeHook after each validation), for tools/correlation_report.py.

A row summarises one or more runs (seeds) of one setting: the last validation's mIoU, and per instrument the
mean over the runs of its value in the LAST training epoch (mean of that epoch's logged windows) or at the LAST
validation. Attention is summarised over the layers: entropy as the mean over layers, the mass on the same set /
label / class as a LIFT, its mean over layers divided by what uniform attention would give (1 = attention ignores
the grouping; 2 = twice as much mass on the group as uniform attention).
"""
import glob
import os.path as osp
import re

import numpy as np

from .ablation import read_json_records, timestamp_dirs

# (column, source, instrument): source 'train' = last training epoch, 'val' = last validation.
COLUMNS = (
    ('acc net', 'train', 'acc_net'), ('acc intra', 'train', 'acc_intra'), ('acc inter', 'train', 'acc_inter'),
    ('change intra', 'train', 'intra_change'), ('change inter', 'train', 'inter_change'),
    ('entropy intra', 'train', 'intra_entropy'), ('entropy inter', 'train', 'inter_entropy'),
    ('set lift intra', 'train', 'intra_set_lift'), ('set lift inter', 'train', 'inter_set_lift'),
    ('label lift intra', 'train', 'intra_label_lift'), ('label lift inter', 'train', 'inter_label_lift'),
    ('loss_kl', 'train', 'loss_kl'), ('agreement', 'train', 'agreement'),
    ('class lift intra (val)', 'val', 'intra_class_lift'), ('class lift inter (val)', 'val', 'inter_class_lift'),
    ('compactness (val)', 'val', 'compactness'),
)


def scalar_records(work_dir):
    """The scalar records of a run, every launch (``<timestamp>/vis_data/scalars.json``) oldest first."""
    records = []
    for folder in timestamp_dirs(work_dir):
        path = osp.join(folder, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            records += read_json_records(path)
    return records


def last_epoch_means(records):
    """{scalar: mean} over the training records (those with ``iter``) of the last epoch logged."""
    train = [record for record in records if 'iter' in record]
    if not train:
        return {}
    last = [record for record in train if record['epoch'] == train[-1]['epoch']]
    return {key: float(np.mean([record[key] for record in last if key in record]))
            for key in sorted({key for record in last for key in record})}


def last_validation(records):
    """The scalars of the last validation record (one with ``miou`` and no ``iter``), or {}."""
    val = [record for record in records if 'iter' not in record and 'miou' in record]
    return dict(val[-1]) if val else {}


def derived(stats):
    """Per neck (intra, inter): ``<neck>_entropy`` mean over layers and ``<neck>_<group>_lift`` for every group
    logged (``<neck>_same_<group>_l<i>`` mean over layers / ``<neck>_chance_<group>``); other scalars as they
    are."""
    out = dict(stats)
    layered = {}
    for key, value in stats.items():
        match = re.fullmatch(r'(intra|inter)_(entropy|same_\w+)_l(\d+)', key)
        if match:
            layered.setdefault((match[1], match[2]), []).append(value)
    for (neck, name), values in layered.items():
        if name == 'entropy':
            out[f'{neck}_entropy'] = float(np.mean(values))
        else:
            group = name.removeprefix('same_')
            chance = stats.get(f'{neck}_chance_{group}')
            if chance:
                out[f'{neck}_{group}_lift'] = float(np.mean(values)) / chance
    return out


def run_summary(work_dir):
    """One run's summary: dict(work_dir, val_miou (percent, last validation; None without one), train (derived
    last-epoch instruments), val (derived last-validation instruments))."""
    records = scalar_records(work_dir)
    val = last_validation(records)
    return dict(work_dir=work_dir, val_miou=100 * val['miou'] if 'miou' in val else None,
                train=derived(last_epoch_means(records)), val=derived(val))


def run_dirs(path):
    """The run work dirs under ``path``: ``path`` itself when it holds logs, else every folder below it that
    does (e.g. the ``<config>/seed<S>`` runs of tools/ablate.py), sorted."""
    if timestamp_dirs(path):
        return [path]
    found = sorted({osp.dirname(osp.dirname(osp.dirname(scalars)))
                    for scalars in glob.glob(osp.join(path, '**', 'vis_data', 'scalars.json'), recursive=True)})
    if not found:
        raise FileNotFoundError(f'no training logs (<timestamp>/vis_data/scalars.json) under {path}')
    return found


def setting_row(name, summaries):
    """A table row for the runs (``run_summary`` dicts) of one setting: val mIoU mean, sample std and per-run
    values, and the mean over runs of every column (None where no run logged it)."""
    mious = [summary['val_miou'] for summary in summaries if summary['val_miou'] is not None]
    values = {}
    for column, source, key in COLUMNS:
        logged = [summary[source][key] for summary in summaries if key in summary[source]]
        values[column] = float(np.mean(logged)) if logged else None
    return dict(name=name, runs=len(summaries), miou=mious, values=values)


def instruments_table_markdown(rows):
    """Markdown: one line per setting, val mIoU (mean ± std, per run) then every column."""
    header = ['setting', 'runs', 'val mIoU (per run)'] + [column for column, _, _ in COLUMNS]
    lines = ['| ' + ' | '.join(header) + ' |', '|---|---:|---|' + '---:|' * len(COLUMNS)]
    for row in rows:
        mious = row['miou']
        if len(mious) > 1:
            miou = f'{np.mean(mious):.1f} ± {np.std(mious, ddof=1):.1f} ({" / ".join(f"{m:.1f}" for m in mious)})'
        else:
            miou = f'{mious[0]:.1f}' if mious else '—'
        cells = ['—' if value is None else f'{value:.3f}' for value in row['values'].values()]
        lines.append('| ' + ' | '.join([row['name'], str(row['runs']), miou] + cells) + ' |')
    return '\n'.join(lines) + '\n'
