"""Open vocabulary at test time: vocabulary files, the scored classes, text anchors from a file or the CLIP text
tower with the prompt ensemble, query scores (cosine and softmax, against numbers computed by hand), tools/test.py's
path on a trained tiny model (renamed, permuted and merged vocabularies against the ordinary test) and
tools/query.py on it."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from hicl.engine import inference_only
from hicl.evaluation.seg_metric import vocabulary_miou_note
from hicl.inference import build_split_dataset
from hicl.label_sets import SCANNET20_CLASSES
from hicl.metrics import confusion_matrix, iou_per_class
from hicl.open_vocabulary import (Vocabulary, clip_text_anchors, configure_open_vocabulary, evaluation_mapping,
                                  load_vocabulary, read_vocabulary_file, text_anchors, vocabulary_path)
from hicl.pseudo_labels.anchors import prompt_templates, read_text_anchor_file, save_text_anchors
from hicl.text_queries import Competitors, cosine_scores, score_texts, softmax_scores, top_point_classes
from tests.conftest import REPO
from tests.test_training import CONFIG, as_cli_options, tiny_config, tiny_overrides


def vocabulary(targets):
    """A Vocabulary named n0, n1, ... with the given targets (tuples of dataset classes) and dummy anchors."""
    return Vocabulary(tuple(f'n{i}' for i in range(len(targets))), np.eye(len(targets), 4, dtype=np.float32),
                      tuple(targets))


def test_mapping_orders_scored_classes_merges_and_leaves_out():
    mapping = evaluation_mapping(vocabulary([('c',), ('b', 'a'), ('a', 'b'), (), ('c',)]), ['a', 'b', 'c', 'd'])
    assert mapping.classes == ('a+b', 'c')  # ordered by their first dataset class; a merge is one class
    assert mapping.truth.tolist() == [0, 0, 1, 2, 2]  # a, b -> a+b; c; d left out; the ignore index
    assert mapping.prediction.tolist() == [1, 0, 0, 2, 1]  # n3 maps to nothing: a miss
    assert mapping.left_out == ('d',)


def test_mapping_refuses_overlapping_targets_and_unknown_classes():
    with pytest.raises(ValueError, match=r"dataset class 'a' is in two targets, a and a\+b"):
        evaluation_mapping(vocabulary([('a',), ('a', 'b')]), ['a', 'b'])
    with pytest.raises(ValueError, match=r"not classes of this dataset: a, b"):
        evaluation_mapping(vocabulary([('a',), ('sofa',)]), ['a', 'b'])
    with pytest.raises(ValueError, match=r"maps no name to a class of this dataset \(a, b\), so no class would"):
        evaluation_mapping(vocabulary([(), ()]), ['a', 'b'])  # would score 0 classes: mIoU nan


def write_json(path, spec):
    path.write_text(json.dumps(spec))
    return str(path)


def test_vocabulary_files_and_their_errors(tmp_path):
    path = write_json(tmp_path / 'v.json', dict(names={'stool': 'chair', 'seat': ['chair', 'sofa'], 'rug': None}))
    assert read_vocabulary_file(path) == (('stool', 'seat', 'rug'), (('chair',), ('chair', 'sofa'), ()), None)
    assert vocabulary_path('v', str(tmp_path)) == str(tmp_path / 'v.json')
    with pytest.raises(FileNotFoundError, match=r"vocabulary 'w' is neither a file nor one of .*: v"):
        vocabulary_path('w', str(tmp_path))
    for spec, message in ((dict(names={}), 'non-empty "names"'), (dict(names={'a': 3}), "name 'a' maps to 3"),
                          (dict(names={'a': 'a'}, anchor='x'), r"unknown keys \['anchor'\]"),
                          (dict(names={'a': None, 'b': None}), 'bad.json: every name maps to null, so no class '
                                                               'would be scored'),
                          (dict(names={'a': 'a', ' ': 'b'}), "bad.json: an empty name ' '")):
        with pytest.raises(ValueError, match=message):
            read_vocabulary_file(write_json(tmp_path / 'bad.json', spec))
    (tmp_path / 'broken.json').write_text('{"names": ')
    with pytest.raises(ValueError, match='broken.json is not a readable vocabulary JSON file'):
        read_vocabulary_file(str(tmp_path / 'broken.json'))


def test_every_name_configs_vocabularies_targets_is_a_scannet20_class():
    from pathlib import Path
    files = sorted((Path(__file__).resolve().parents[1] / 'configs' / 'vocabularies').glob('*.json'))
    assert len(files) >= 3
    for path in files:
        names, targets, _ = read_vocabulary_file(str(path))
        evaluation_mapping(vocabulary(targets), SCANNET20_CLASSES)  # raises on unknown or overlapping targets


def test_cosine_score_normalises_features_and_text():
    features = np.array([[3.0, 4.0], [0.0, 2.0], [-1.0, 0.0], [0.0, 0.0]])  # norms 5, 2, 1 and a zero feature
    anchors = np.array([[2.0, 2.0], [1.0, 0.0]])  # the first is not a unit vector
    expected = [[14 / (5 * math.sqrt(8)), 3 / 5],  # (3*2 + 4*2) / (5 * |(2, 2)|), 3 / 5
                [4 / (2 * math.sqrt(8)), 0.0],
                [-2 / math.sqrt(8), -1.0],
                [0.0, 0.0]]  # a zero feature scores 0, not NaN
    np.testing.assert_allclose(cosine_scores(features, anchors), expected, rtol=1e-6, atol=1e-7)
    diagonal, chair = score_texts(features, ['diagonal', 'chair'], anchors)
    assert diagonal.colour_range == pytest.approx((-2 / math.sqrt(8), 14 / (5 * math.sqrt(8))))
    assert chair.method == 'cosine' and chair.colour_range == pytest.approx((-1.0, 0.6))  # min-max over the points
    np.testing.assert_allclose(chair.scores, [0.6, 0.0, -1.0, 0.0], atol=1e-7)
    assert 'colours min-max over this scene: -1.000 dark purple to 0.600 yellow' in chair.statement()
    assert chair.statement().startswith('cosine of the L2-normalised point feature and text embedding (raw, in [-1')


def competitors_around_chair():
    """Competitors at cosines 1 (chair), 0.995 (seat), 0.985 (stool) and 0 (wall) to the unit x axis."""
    seat, stool = math.sqrt(1 - 0.995 ** 2), math.sqrt(1 - 0.985 ** 2)
    return Competitors(('chair', 'seat', 'stool', 'wall'),
                       np.array([[1.0, 0.0], [0.995, seat], [0.985, stool], [0.0, 1.0]], np.float32), 'the test')


def test_softmax_score_leaves_out_competitors_near_the_text():
    features = np.array([[2.0, 0.0], [0.0, 1.0]])
    stool = math.sqrt(1 - 0.985 ** 2)
    scores, excluded = softmax_scores(features, np.array([1.0, 0.0]), competitors_around_chair())
    # chair (1) and seat (0.995) are left out (cosine >= 0.99); stool (0.985) and wall compete with the text
    assert [name for name, _ in excluded] == ['chair', 'seat']
    assert [value for _, value in excluded] == pytest.approx([1.0, 0.995], abs=1e-6)
    expected = [math.exp(2) / (math.exp(2) + math.exp(2 * 0.985) + math.exp(0)),  # logits <f, q>, <f, stool>, <f, wall>
                math.exp(0) / (math.exp(0) + math.exp(stool) + math.exp(1))]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)

    # a text away from every competitor competes with all four; logits are <f, anchor> with unnormalised features
    scores, excluded = softmax_scores(features, np.array([0.6, 0.8]), competitors_around_chair())
    assert excluded == ()
    seat = math.sqrt(1 - 0.995 ** 2)
    first = [1.2, 2.0, 2 * 0.995, 2 * 0.985, 0.0]
    second = [0.8, 0.0, seat, stool, 1.0]
    expected = [math.exp(logits[0]) / sum(map(math.exp, logits)) for logits in (first, second)]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_softmax_queries_state_what_they_left_out_and_refuse_an_empty_competition():
    chair, = score_texts(np.array([[2.0, 0.0]]), ['chair'], np.array([[1.0, 0.0]]), 'softmax',
                         competitors_around_chair())
    assert chair.colour_range == (0.0, 1.0)
    assert chair.statement() == ('softmax probability of "chair" against the test (in [0, 1]; left out, cosine >= 0.99 '
                                 'to the text: chair (1.000), seat (0.995)); colours fixed: 0 dark purple to 1 yellow')
    alone = Competitors(('chair',), np.array([[1.0, 0.0]], np.float32), 'one class')
    with pytest.raises(ValueError, match=r'every competitor \(chair\) has a cosine >= 0.99 to the text'):
        softmax_scores(np.array([[2.0, 0.0]]), np.array([1.0, 0.0]), alone)


def test_the_mIoU_note_says_how_many_classes_are_scored_and_whether_it_compares():
    note = vocabulary_miou_note(('wall', 'chair+sofa', 'table'), ('wall', 'chair', 'sofa', 'table', 'door'))
    assert note == ("this vocabulary's mIoU averages its 3 scored classes (1 merged: chair+sofa; 1 of the dataset's 5 "
                    "classes left out: door): NOT comparable to the mIoU over the dataset's 5 classes")
    assert vocabulary_miou_note(('b', 'a'), ('a', 'b')) == (
        "this vocabulary's mIoU averages its 2 scored classes (0 merged; 0 of the dataset's 2 classes left out): "
        "comparable to the ordinary test's mIoU (the same classes)")


def test_top_point_classes():
    scores = np.array([0.9, 0.8, 0.7, 0.95, 0.1, 0.6])
    truth = np.array([2, 1, 2, -1, 0, 2])  # the unlabelled point (0.95) does not count
    assert top_point_classes(scores, truth, ['a', 'b', 'c'], top_fraction=0.5) == [('c', 2 / 3), ('b', 1 / 3)]
    assert top_point_classes(scores, truth, ['a', 'b', 'c'], top_fraction=0.01) == [('c', 1.0)]  # at least one
    assert top_point_classes(scores, np.full(6, -1), ['a'], 0.5) == []


@pytest.fixture(scope='module')
def seeded_text_tower():
    """A function giving the same random-weight open_clip ViT-B-16 each call (seed 0)."""
    import open_clip

    def build():
        torch.manual_seed(0)
        return open_clip.create_model('ViT-B-16', pretrained=None)
    return build, open_clip.get_tokenizer('ViT-B-16')


def test_new_names_come_out_of_the_text_tower_with_the_prompt_ensemble(seeded_text_tower, tmp_path):
    build, tokenizer = seeded_text_tower
    state = torch.random.get_rng_state()
    anchors = clip_text_anchors(['a place to sit'], 'ViT-B-16', 'none')  # random weights drawn with seed 0
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random state is left alone
    model = build()
    with torch.no_grad():  # independent: the 85 prompts' unit embeddings, their mean, unit again
        emb = model.encode_text(tokenizer([t.format('a place to sit') for t in prompt_templates()]))
        emb = emb / emb.norm(dim=-1, keepdim=True)
        expected = (emb.mean(0) / emb.mean(0).norm()).numpy()
    assert len(prompt_templates()) == 85
    np.testing.assert_allclose(anchors[0], expected, atol=1e-5)

    # a name in an open_clip anchor file takes the file's anchor, a free text the tower's
    file_anchor = np.ones((1, 512), np.float32) / np.sqrt(512)
    save_text_anchors(str(tmp_path / 'clip.npz'), file_anchor, ['chair'], dict(kind='open_clip'))
    torch.manual_seed(1)  # the tower does not depend on the caller's seed
    mixed = text_anchors(['chair', 'a place to sit'], str(tmp_path / 'clip.npz'), 'ViT-B-16', 'none')
    np.testing.assert_allclose(mixed, np.vstack([file_anchor, expected]), atol=1e-5)


def test_free_texts_need_clip_weights_and_clip_anchors(tmp_path):
    save_text_anchors(str(tmp_path / 'sim.npz'), np.eye(2, 8, dtype=np.float32), ['chair', 'wall'],
                      dict(kind='clip_like'))
    np.testing.assert_array_equal(text_anchors(['wall'], str(tmp_path / 'sim.npz')), np.eye(2, 8)[1:])
    with pytest.raises(ValueError, match=r"holds clip_like anchors, not CLIP text embeddings, so the texts "
                                         r"\['a place to sit'\] cannot be put in its space"):
        text_anchors(['chair', 'a place to sit'], str(tmp_path / 'sim.npz'), clip_pretrained='none')
    with pytest.raises(ValueError, match=r"texts \['stool'\] need the CLIP text tower, but no weights were given"):
        text_anchors(['stool'])


def test_head_refuses_anchors_of_another_dimension(synthrooms_tiny, tmp_path):
    from mmdet3d.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet3d')
    head = MODELS.build(tiny_config(synthrooms_tiny, tmp_path, 1).model).decode_head
    with pytest.raises(ValueError, match=r'new text anchors must be \(V, 512\), got \(3, 64\)'):
        head.set_text_anchors(np.zeros((3, 64)))
    head.set_text_anchors(np.zeros((3, 512)))
    assert head.text_anchors.shape == (3, 512) and head.num_classes == 3


# --- tools/test.py's path on a trained tiny model ---------------------------------------------------------------

@pytest.fixture(scope='module')
def tiny_trained(synthrooms_tiny, tmp_path_factory):
    """(data root, checkpoint) of the baseline trained for 12 iterations (lr 1e-2, no validation) on the tiny set,
    enough for its predictions to spread over several classes."""
    work_dir = tmp_path_factory.mktemp('open_vocabulary_train')
    cfg = tiny_config(synthrooms_tiny, work_dir, max_epochs=12)
    cfg.optim_wrapper.optimizer.lr, cfg.train_cfg.val_interval = 1e-2, 100
    Runner.from_cfg(cfg).train()
    return synthrooms_tiny, str(work_dir / 'epoch_12.pth')


def tiny_test_metrics(tiny_trained, tmp_path, vocabulary_file=None):
    """The test metrics of the tiny model, with ``vocabulary_file`` as tools/test.py --vocabulary applies it."""
    root, checkpoint = tiny_trained
    cfg = inference_only(tiny_config(root, tmp_path / 'test', max_epochs=2))
    cfg.load_from = checkpoint
    cfg.test_evaluator.prediction_dir = str(tmp_path / 'preds')
    hook = None
    if vocabulary_file:
        _, hook = configure_open_vocabulary(cfg, load_vocabulary(vocabulary_file))
    runner = Runner.from_cfg(cfg)
    if hook:
        runner.register_hook(hook)
    return runner.test()


def test_renamed_permuted_and_merged_vocabularies_score_as_expected(tiny_trained, tmp_path, one_thread, capfd):
    root, _ = tiny_trained
    anchors, classes, _ = read_text_anchor_file(str(root / 'text_anchors.npz'))
    plain = tiny_test_metrics(tiny_trained, tmp_path / 'plain')
    scene = next((tmp_path / 'plain' / 'preds').glob('*.npy')).stem
    predicted = np.load(tmp_path / 'plain' / 'preds' / f'{scene}.npy')
    assert len(np.unique(predicted)) >= 3, np.unique(predicted, return_counts=True)  # a test worth permuting

    # renamed and permuted: the same anchors under other names in reverse order, each mapped to its class
    order = list(reversed(range(len(classes))))
    save_text_anchors(str(tmp_path / 'renamed.npz'), anchors[order], [f'thing {i}' for i in order],
                      dict(kind='renamed'))
    renamed = write_json(tmp_path / 'renamed.json', dict(anchors_file=str(tmp_path / 'renamed.npz'),
                                                         names={f'thing {i}': classes[i] for i in order}))
    capfd.readouterr()
    permuted = tiny_test_metrics(tiny_trained, tmp_path / 'renamed', renamed)
    assert ("this vocabulary's mIoU averages its 20 scored classes (0 merged; 0 of the dataset's 20 classes left out): "
            "comparable to the ordinary test's mIoU" in capfd.readouterr().out)
    for name in list(classes) + ['miou', 'acc']:
        assert permuted[name] == pytest.approx(plain[name], nan_ok=True), name
    renamed_ids = np.load(tmp_path / 'renamed' / 'preds' / f'{scene}.npy')
    np.testing.assert_array_equal(np.array(order)[renamed_ids], predicted)  # same points, other ids

    # merged: the two most frequent true classes scored as one: the IoU of their union
    test_set = build_split_dataset(tiny_config(root, tmp_path / 'gt', 2), 'test')
    truth = np.asarray(test_set[0]['data_samples'].eval_ann_info['pts_semantic_mask'])
    first, second = np.argsort(-np.bincount(truth[truth < len(classes)], minlength=len(classes)))[:2]
    targets = {name: name for name in classes}
    targets[classes[first]] = targets[classes[second]] = [classes[first], classes[second]]
    merged_file = write_json(tmp_path / 'merged.json', dict(anchors_file=str(root / 'text_anchors.npz'),
                                                            names=targets))
    merged = tiny_test_metrics(tiny_trained, tmp_path / 'merged', merged_file)
    merged_name = '+'.join(sorted([classes[first], classes[second]], key=list(classes).index))
    assert (f"this vocabulary's mIoU averages its 19 scored classes (1 merged: {merged_name}; 0 of the dataset's 20 "
            "classes left out): NOT comparable to the mIoU over the dataset's 20 classes" in capfd.readouterr().out)
    union = np.where(np.isin(truth, [first, second]), first, truth)
    union_prediction = np.where(np.isin(predicted, [first, second]), first, predicted)
    expected = iou_per_class(confusion_matrix(union, union_prediction, len(classes), len(classes)))[first]
    assert merged[merged_name] == pytest.approx(expected)
    assert classes[first] not in merged and classes[second] not in merged
    others = [name for name in classes if name not in (classes[first], classes[second])]
    for name in others:  # the other classes keep their IoU
        assert merged[name] == pytest.approx(plain[name], nan_ok=True), name


def run_query_tool(root, checkpoint, scene_id, out, *options):
    """tools/query.py on the tiny model and set, one thread; returns the finished process (exit 0 checked)."""
    out = subprocess.run(
        [sys.executable, 'tools/query.py', CONFIG, checkpoint, '--scene', scene_id, '--out', str(out), '--top', '0.5',
         *options, '--cfg-options', *as_cli_options(tiny_overrides(root, 2))],
        cwd=REPO, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_query_cli_writes_the_cosine_and_softmax_scores_of_each_text(tiny_trained, tmp_path, one_thread):
    from plyfile import PlyData

    from hicl.inference import load_inference_model, predict_scenes
    root, checkpoint = tiny_trained
    cfg = tiny_config(root, tmp_path / 'work', 2)
    scene = next(predict_scenes(load_inference_model(cfg, checkpoint), build_split_dataset(cfg, 'test')))
    anchors, classes, _ = read_text_anchor_file(str(root / 'text_anchors.npz'))
    texts = ('chair', 'other furniture')
    queried = anchors[[classes.index(text) for text in texts]]
    # expected, by numpy alone: the cosine of each point's feature and each text's anchor
    unit_features = scene.features / np.linalg.norm(scene.features, axis=1, keepdims=True)
    cosine = unit_features @ (queried / np.linalg.norm(queried, axis=1, keepdims=True)).T

    out = run_query_tool(root, checkpoint, scene.scene_id, tmp_path / 'cosine', '--text', texts[0], '--text', texts[1])
    for column, (text, slug) in enumerate(zip(texts, ('chair', 'other_furniture'))):
        expected = cosine[:, column]
        vertex = PlyData.read(str(tmp_path / 'cosine' / f'{scene.scene_id}.{slug}.ply'))['vertex'].data
        np.testing.assert_allclose(vertex['score'], expected, atol=1e-5)  # the raw cosine, not rescaled
        np.testing.assert_allclose(np.stack([vertex[a] for a in 'xyz'], 1), scene.xyz)
        colours = np.stack([vertex[c] for c in ('red', 'green', 'blue')], 1)
        assert tuple(colours[expected.argmin()]) == (68, 1, 84) and tuple(colours[expected.argmax()]) == (253, 231, 37)
        assert (tmp_path / 'cosine' / f'{scene.scene_id}.{slug}.png').stat().st_size > 10_000
        assert (f'"{text}": cosine mean {expected.mean():.3f}, min {expected.min():.3f}, max {expected.max():.3f}'
                in out.stdout), out.stdout
        assert (f'colours min-max over this scene: {expected.min():.3f} dark purple to {expected.max():.3f} yellow'
                in out.stdout), out.stdout
        labelled = np.flatnonzero(scene.truth >= 0)
        top = labelled[np.argsort(-expected[labelled], kind='stable')[:math.ceil(0.5 * len(labelled))]]
        most = np.bincount(scene.truth[top]).argmax()
        share = np.mean(scene.truth[top] == most)
        assert f'true classes of the top 50% labelled points: {classes[most]} {100 * share:.0f}%' in out.stdout

    # softmax against the model's classes: "chair" does not compete with its own anchor
    out = run_query_tool(root, checkpoint, scene.scene_id, tmp_path / 'softmax', '--text', 'chair', '--score',
                         'softmax')
    competitors = np.delete(anchors, classes.index('chair'), 0)
    assert (competitors @ queried[0] < 0.99).all()  # unit anchors: only chair's own is near enough to leave out
    logits = scene.features.astype(np.float64) @ np.vstack([queried[0], competitors]).T
    expected = np.exp(logits[:, 0]) / np.exp(logits).sum(1)
    vertex = PlyData.read(str(tmp_path / 'softmax' / f'{scene.scene_id}.chair.ply'))['vertex'].data
    np.testing.assert_allclose(vertex['score'], expected, atol=1e-5)
    assert (f"softmax probability of \"chair\" against the model's {len(classes)} classes (in [0, 1]; left out, "
            'cosine >= 0.99 to the text: chair (1.000))') in out.stdout, out.stdout
