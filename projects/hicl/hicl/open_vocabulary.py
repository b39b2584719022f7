"""Open-vocabulary use of a trained 3D net: its point features live in CLIP's text space, so any text gives a
class anchor, without retraining.

- :func:`text_anchors`: the (Q, D) anchors of free texts, taken from an anchor file (``make_text_embeddings.py``)
  where it holds the text as a class name, else computed by the CLIP text tower with the 85-template prompt
  ensemble of the training anchors (:func:`~hicl.pseudo_labels.anchors.encode_text_anchors`).
- :class:`Vocabulary`: a class list for ``tools/test.py --vocabulary``, read from a JSON file, with the dataset
  classes each name stands for; :func:`evaluation_mapping` turns it into the classes the metric scores.

Text queries (``tools/query.py``, ``tools/visualize.py --text``) use these anchors; :mod:`hicl.text_queries` scores
them.

Vocabulary file (JSON; ``configs/vocabularies/`` holds examples)::

    {"description": "...",
     "anchors_file": null,  # or an anchor .npz holding every name (else the CLIP text tower encodes them)
     "names": {"chair": "chair", "stool": "chair", "seat": ["sofa", "bench"], "rug": null}}

``names`` maps each name (in order: the ids of the predictions) to the dataset class it counts as, a list of
classes (the metric merges them into one class: the IoU of their union), or null (a prediction of that name is a
miss of the point's true class; at least one name must map to a class). Dataset classes no name maps to are left
out of the metric. Such a vocabulary's mIoU averages its K scored classes, not the dataset's C: with merges or
left-out classes it is not comparable to the ordinary test's mIoU.
"""
import json
import os
from dataclasses import dataclass

import numpy as np

from .pseudo_labels.anchors import encode_text_anchors, prompt_templates, read_text_anchor_file

DEFAULT_CLIP_MODEL = 'ViT-B-16'
RANDOM_TOWER_SEED = 0
CLIP_WEIGHTS_HELP = ('CLIP weights for the text tower: a local open_clip checkpoint file (e.g. ViT-B-16.pt of '
                     "OpenAI's release), an open_clip tag such as 'openai' where downloads work, or 'none' (random "
                     f'weights drawn with seed {RANDOM_TOWER_SEED}: tests the pipeline, recognises nothing)')
# The shipped vocabularies, configs/vocabularies of the repository (the package is installed in place).
VOCABULARY_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'configs',
                                              'vocabularies'))


def clip_text_anchors(texts, clip_model=DEFAULT_CLIP_MODEL, clip_pretrained=None):
    """(Q, D) float32 unit anchors of ``texts`` from the open_clip text tower with the prompt ensemble.

    clip_pretrained: see CLIP_WEIGHTS_HELP; None raises ValueError (there are no weights to encode with); 'none'
    draws the weights with RANDOM_TOWER_SEED (the global random state is left as it was), so that every call
    gets the same tower.
    """
    if clip_pretrained is None:
        raise ValueError(f'texts {list(texts)} need the CLIP text tower, but no weights were given: pass '
                         f'--clip-pretrained ({CLIP_WEIGHTS_HELP}), or an anchor file holding them')
    import open_clip
    import torch
    weights = None if str(clip_pretrained).lower() == 'none' else clip_pretrained
    with torch.random.fork_rng():
        torch.manual_seed(RANDOM_TOWER_SEED)
        model = open_clip.create_model(clip_model, pretrained=weights)
    return encode_text_anchors(model, open_clip.get_tokenizer(clip_model), list(texts), prompt_templates())


def text_anchors(texts, anchors_file=None, clip_model=DEFAULT_CLIP_MODEL, clip_pretrained=None):
    """(Q, D) float32 anchors of ``texts``: a text that is a class name of ``anchors_file`` takes that anchor,
    the others come from :func:`clip_text_anchors`.

    Mixing both needs an anchor file made by the CLIP text tower (``meta.kind == 'open_clip'``): anchors of the
    simulated labeller (the SynthRooms demo) are not in CLIP's space, and free texts are refused with them.
    """
    texts = list(texts)
    file_anchors, file_classes, meta = (read_text_anchor_file(anchors_file) if anchors_file
                                        else (np.zeros((0, 0), np.float32), (), {}))
    in_file = {name: row for name, row in zip(file_classes, file_anchors)}
    free = [text for text in texts if text not in in_file]
    if free and anchors_file and meta.get('kind') != 'open_clip':
        raise ValueError(f'{anchors_file} holds {meta.get("kind")} anchors, not CLIP text embeddings, so the texts '
                         f'{free} cannot be put in its space; use names of the file ({", ".join(file_classes)}) '
                         'or a model trained with CLIP anchors (tools/make_text_embeddings.py)')
    encoded = dict(zip(free, clip_text_anchors(free, clip_model, clip_pretrained))) if free else {}
    anchors = np.stack([in_file[text] if text in in_file else encoded[text] for text in texts]).astype(np.float32)
    if file_anchors.size and anchors.shape[1] != file_anchors.shape[1]:
        raise ValueError(f'the CLIP text tower of {clip_model} gives {anchors.shape[1]}-d anchors but '
                         f'{anchors_file} holds {file_anchors.shape[1]}-d ones: use the CLIP model it was made with')
    return anchors


@dataclass(frozen=True)
class Vocabulary:
    """A class list to segment with.

    Attributes:
        names: (V,) the names; prediction v means ``names[v]``.
        anchors: (V, D) float32 unit text anchors.
        targets: (V,) tuples of the dataset classes each name counts as (one class, several to merge, or ()
            for none: its predictions are misses).
    """
    names: tuple
    anchors: np.ndarray
    targets: tuple


def vocabulary_path(name_or_file, search_dir=VOCABULARY_DIR):
    """The file of ``--vocabulary``: an existing path, else ``<search_dir>/<name>.json``."""
    if os.path.isfile(name_or_file):
        return name_or_file
    candidate = os.path.join(search_dir, f'{name_or_file}.json')
    if os.path.isfile(candidate):
        return candidate
    known = sorted(os.path.splitext(f)[0] for f in os.listdir(search_dir) if f.endswith('.json')) \
        if os.path.isdir(search_dir) else []
    raise FileNotFoundError(f'vocabulary {name_or_file!r} is neither a file nor one of the vocabularies in '
                            f'{search_dir}: {", ".join(known) or "none"}')


def read_vocabulary_file(path):
    """(names, targets, anchors_file) of a vocabulary JSON file, with errors naming the file and the entry."""
    try:
        with open(path, encoding='utf-8') as file:
            spec = json.load(file)
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f'{path} is not a readable vocabulary JSON file: {err}') from err
    if not isinstance(spec, dict) or not isinstance(spec.get('names'), dict) or not spec['names']:
        raise ValueError(f'{path}: a vocabulary file is a JSON object with a non-empty "names" object '
                         '(name -> dataset class, list of classes, or null)')
    unknown = set(spec) - {'description', 'anchors_file', 'names'}
    if unknown:
        raise ValueError(f'{path}: unknown keys {sorted(unknown)} (known: description, anchors_file, names)')
    targets = []
    for name, target in spec['names'].items():
        if not name.strip():
            raise ValueError(f'{path}: an empty name {name!r}: every name is a text to segment with')
        if target is None:
            targets.append(())
        elif isinstance(target, str):
            targets.append((target,))
        elif isinstance(target, list) and target and all(isinstance(item, str) for item in target):
            targets.append(tuple(target))
        else:
            raise ValueError(f'{path}: name {name!r} maps to {target!r}; use a class name, a non-empty list of '
                             'class names, or null')
    if not any(targets):
        raise ValueError(f'{path}: every name maps to null, so no class would be scored (mIoU of nothing): map '
                         'names to the dataset classes they stand for')
    anchors_file = spec.get('anchors_file')
    if anchors_file and not os.path.isabs(anchors_file) and not os.path.isfile(anchors_file):
        anchors_file = os.path.join(os.path.dirname(os.path.abspath(path)), anchors_file)
    return tuple(spec['names']), tuple(targets), anchors_file


def load_vocabulary(path, clip_model=DEFAULT_CLIP_MODEL, clip_pretrained=None):
    """The :class:`Vocabulary` of a file, its anchors from its ``anchors_file`` or the CLIP text tower."""
    names, targets, anchors_file = read_vocabulary_file(path)
    return Vocabulary(names, text_anchors(names, anchors_file, clip_model, clip_pretrained), targets)


@dataclass(frozen=True)
class EvaluationMapping:
    """How a vocabulary's predictions and the dataset's truth meet in the metric.

    Attributes:
        classes: (K,) the scored classes: each a dataset class, or several joined by '+' (a merge).
        truth: (C + 1,) int64: scored class of each dataset class id and of the ignore index C; K = not scored.
        prediction: (V,) int64: scored class of each vocabulary name; K = a miss.
        left_out: dataset classes no name maps to (their points are not scored).
        dataset_classes: (C,) the dataset's classes.
    """
    classes: tuple
    truth: np.ndarray
    prediction: np.ndarray
    left_out: tuple
    dataset_classes: tuple

    def as_config(self):
        """Plain lists for an mmengine config (``PerClassSegMetric(class_mapping=...)``)."""
        return dict(classes=list(self.classes), truth=self.truth.tolist(), prediction=self.prediction.tolist())


def evaluation_mapping(vocabulary, dataset_classes):
    """The :class:`EvaluationMapping` of ``vocabulary`` on a dataset with ``dataset_classes`` (ignore index C).

    Each distinct target of the names is one scored class, in the order of its first dataset class. Targets must
    be disjoint or equal (two names may both count as chair, or both as chair+sofa, but not one as chair and one
    as chair+sofa): a ValueError names the overlap.
    """
    dataset_classes = list(dataset_classes)
    unknown = sorted({cls for target in vocabulary.targets for cls in target} - set(dataset_classes))
    if unknown:
        raise ValueError(f'the vocabulary maps names to {unknown}, which are not classes of this dataset: '
                         f'{", ".join(dataset_classes)}')
    groups = sorted({tuple(sorted(target, key=dataset_classes.index)) for target in vocabulary.targets if target},
                    key=lambda group: (dataset_classes.index(group[0]), len(group)))
    owner = {}
    for group in groups:
        for cls in group:
            if cls in owner:
                raise ValueError(f'dataset class {cls!r} is in two targets, {"+".join(owner[cls])} and '
                                 f'{"+".join(group)}: targets must be disjoint or equal')
            owner[cls] = group
    if not groups:
        raise ValueError(f'the vocabulary maps no name to a class of this dataset ({", ".join(dataset_classes)}), '
                         'so no class would be scored')
    not_scored = len(groups)
    truth = np.full(len(dataset_classes) + 1, not_scored, dtype=np.int64)
    for cls, group in owner.items():
        truth[dataset_classes.index(cls)] = groups.index(group)
    ordered = [tuple(sorted(target, key=dataset_classes.index)) for target in vocabulary.targets]
    prediction = np.array([groups.index(target) if target else not_scored for target in ordered], dtype=np.int64)
    return EvaluationMapping(classes=tuple('+'.join(group) for group in groups), truth=truth, prediction=prediction,
                             left_out=tuple(cls for cls in dataset_classes if cls not in owner),
                             dataset_classes=tuple(dataset_classes))


def configure_open_vocabulary(cfg, vocabulary):
    """Make ``cfg``'s test metric score ``vocabulary`` on its test dataset's classes; returns the
    :class:`EvaluationMapping` and the :class:`~hicl.engine.hooks.OpenVocabularyHook` to register on the runner
    (it swaps the head's anchors after the checkpoint is loaded)."""
    from .engine.hooks import OpenVocabularyHook
    from .inference import config_classes
    mapping = evaluation_mapping(vocabulary, config_classes(cfg, 'test'))
    cfg.test_evaluator.class_mapping = mapping.as_config()
    return mapping, OpenVocabularyHook(vocabulary.anchors, vocabulary.names)
