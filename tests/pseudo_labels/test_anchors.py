"""Text anchors: the prompt ensemble on a real open_clip text tower (random weights), the file format."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from hicl.pseudo_labels.anchors import (SCENE_TEMPLATES, anchors_hash, encode_text_anchors, load_text_anchors,
                                        prompt_class_name, prompt_templates, random_orthonormal_anchors,
                                        read_text_anchor_file, save_text_anchors)
from tests.conftest import REPO


def test_prompt_ensemble_is_85_templates_with_class_names_as_words():
    templates = prompt_templates()
    assert len(templates) == 85 and len(set(templates)) == 85
    assert templates[-5:] == SCENE_TEMPLATES and all('{}' in t for t in templates)
    assert prompt_class_name('traffic_cone') == 'traffic cone'


@pytest.fixture(scope='module')
def clip_text_tower():
    import open_clip
    torch.manual_seed(0)
    return open_clip.create_model('ViT-B-16', pretrained=None), open_clip.get_tokenizer('ViT-B-16')


def test_encode_text_anchors_matches_step_by_step_ensemble(clip_text_tower):
    model, tokenizer = clip_text_tower
    templates = ('a photo of a {}.', 'there is the {} in the scene.', 'itap of a {}.')
    anchors = encode_text_anchors(model, tokenizer, ['chair', 'other_furniture'], templates)
    assert anchors.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(anchors, axis=1), 1.0, atol=1e-5)
    with torch.no_grad():  # independent: per-template unit embeddings, mean, unit again
        emb = model.encode_text(tokenizer([t.format('other furniture') for t in templates]))
        emb = emb / emb.norm(dim=-1, keepdim=True)
        expected = (emb.mean(0) / emb.mean(0).norm()).numpy()
    np.testing.assert_allclose(anchors[1], expected, atol=1e-5)
    # order-stable: a class's anchor does not depend on the other classes
    alone = encode_text_anchors(model, tokenizer, ['other_furniture'], templates)
    np.testing.assert_allclose(alone[0], anchors[1], atol=1e-5)


def test_random_orthonormal_anchors_are_orthonormal_and_seeded():
    a = random_orthonormal_anchors(20, 512, seed=3)
    np.testing.assert_allclose(a @ a.T, np.eye(20), atol=1e-5)
    assert np.array_equal(a, random_orthonormal_anchors(20, 512, seed=3))
    assert anchors_hash(a) != anchors_hash(random_orthonormal_anchors(20, 512, seed=4))
    with pytest.raises(ValueError, match='cannot draw 5 orthonormal anchors in 4 dimensions'):
        random_orthonormal_anchors(5, 4)


def test_anchor_file_round_trip_and_errors(tmp_path):
    path = tmp_path / 'a.npz'
    anchors = random_orthonormal_anchors(3, 8)
    save_text_anchors(str(path), anchors, ['a', 'b', 'c'], dict(kind='test'))
    loaded, classes, meta = read_text_anchor_file(str(path))
    assert np.array_equal(loaded, anchors) and classes == ('a', 'b', 'c') and meta == dict(kind='test')
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    with pytest.raises(ValueError, match="classes .* but the config asks for"):
        load_text_anchors(str(path), class_names=['a', 'b', 'x'])
    (tmp_path / 'bad.npz').write_bytes(b'not a zip')
    with pytest.raises(ValueError, match='is not a text-anchor file'):
        read_text_anchor_file(str(tmp_path / 'bad.npz'))


def test_make_text_embeddings_cli_random_orthonormal(tmp_path):
    out = tmp_path / 'anchors.npz'
    result = subprocess.run([sys.executable, 'tools/make_text_embeddings.py', '--random-orthonormal', '--seed', '0',
                             '--out', str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    anchors, classes, meta = read_text_anchor_file(str(out))
    assert anchors.shape == (20, 512) and classes[0] == 'wall' and meta['kind'] == 'random_orthonormal'
    result = subprocess.run([sys.executable, 'tools/make_text_embeddings.py', '--random-orthonormal', '--names',
                             'stool', 'a place to sit', '--out', str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    anchors, classes, meta = read_text_anchor_file(str(out))
    assert anchors.shape == (2, 512) and classes == ('stool', 'a place to sit')
    assert meta == dict(kind='random_orthonormal', seed=0, names=['stool', 'a place to sit'])


def test_clip_like_anchors_follow_their_cosine_formula_and_clip_like_statistics():
    from hicl.pseudo_labels.anchors import GROUP_SHARE, clip_like_anchors, cosine_statistics
    names = ('chair', 'sofa', 'table', 'desk', 'lamp')
    groups = (('chair', 'sofa'), ('table', 'desk'), ('chair', 'table'))
    anchors = clip_like_anchors(names, groups, embed_dim=64, seed=3, shared_share=(0.7, 0.7))
    assert np.allclose(np.linalg.norm(anchors, axis=1), 1, atol=1e-6)
    cos = anchors @ anchors.T
    # shares 0.7 everywhere; chair is in two groups, sofa in one: they share one of them
    assert cos[0, 1] == pytest.approx(0.7 + GROUP_SHARE * 1 / np.sqrt(2 * 1), abs=1e-5)
    assert cos[1, 2] == pytest.approx(0.7, abs=1e-5)  # sofa and table share no group
    assert cos[2, 4] == pytest.approx(0.7, abs=1e-5)  # lamp has no group
    from hicl.label_sets import SCANNET20_CLASSES
    from hicl.pseudo_labels.simulated import DEFAULT_CONFUSION_GROUPS
    stats = cosine_statistics(clip_like_anchors(SCANNET20_CLASSES, DEFAULT_CONFUSION_GROUPS), SCANNET20_CLASSES,
                              DEFAULT_CONFUSION_GROUPS)
    assert 0.7 <= stats['mean'] <= 0.85 and stats['confusable_mean'] > stats['other_mean'] + 0.05
