"""Text queries on a scene (``tools/query.py``, the query layers of ``tools/visualize.py``): how well each point
matches a text, what the best points are, and the file names of the results.

Two scores, each with a stated colour range:

- ``cosine`` (default): the cosine similarity of the point's feature and the text's embedding, both L2-normalised
  (:func:`cosine_scores`), raw in [-1, 1], as OpenScene and most open-vocabulary 3D tools score a text. A synonym or
  a broader word is scored on its own, without sharing a probability with the class names it resembles. Colours:
  min-max over the scene, per text (the lowest point dark purple, the highest yellow; the legend gives both values).
- ``softmax``: the probability of the text when it competes with a list of class anchors (the model's own classes,
  or a vocabulary), softmax([<f, q>, <f, T_1>, ..., <f, T_C>])[0] with the logits the net was trained with
  (:func:`softmax_scores`). Anchors with a cosine >= NEAR_DUPLICATE_COSINE to the text's are left out of its
  competitors (a text equal to a class name does not compete with itself) and named. A synonym of a kept class
  splits the probability with it. Colours: the fixed range 0 to 1.
"""
import hashlib
from dataclasses import dataclass
from functools import partial

import numpy as np

from .open_vocabulary import DEFAULT_CLIP_MODEL, VOCABULARY_DIR, load_vocabulary, text_anchors, vocabulary_path
from .pseudo_labels.anchors import read_text_anchor_file

SCORES = ('cosine', 'softmax')
NEAR_DUPLICATE_COSINE = 0.99
QUERY_SLUG_BYTES = 60  # longer slugs are cut and end in a hash of the text: file names stay under 255 bytes
SCORE_HELP = ('how a point scores a text: "cosine" (default), the cosine similarity of the point\'s feature and the '
              'text embedding, both L2-normalised, raw in [-1, 1], coloured min-max over the scene; "softmax", the '
              'probability of the text when it competes with the model\'s classes (or --vocabulary), in [0, 1], '
              f'coloured from 0 to 1; class anchors with a cosine >= {NEAR_DUPLICATE_COSINE} to the text are left out '
              'of its competitors')


def unit_rows(array):
    """(N, D) float64 rows of ``array`` divided by their L2 norm; an all-zero row stays zero."""
    array = np.asarray(array, dtype=np.float64)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.where(norms > 0, norms, 1.0)


def cosine_scores(features, anchors):
    """(N, Q) float32 cosine similarity in [-1, 1] of N point features (N, D) and Q text embeddings (Q, D), both
    L2-normalised (a zero feature scores 0)."""
    return np.clip(unit_rows(features) @ unit_rows(anchors).T, -1, 1).astype(np.float32)


@dataclass(frozen=True)
class Competitors:
    """The class anchors a text competes with under the softmax score.

    Attributes:
        names: (C,) their names.
        anchors: (C, D) float32 their text anchors.
        source: what they are, for the printout, e.g. "the model's 20 classes".
    """
    names: tuple
    anchors: np.ndarray
    source: str


def softmax_scores(features, text_anchor, competitors, threshold=NEAR_DUPLICATE_COSINE):
    """The softmax score of one text at N points and the competitors left out of it.

    features: (N, D) point features; text_anchor: (D,) the text's anchor; competitors: :class:`Competitors`.
    Returns ((N,) float32 softmax([<f, q>, <f, T_c> for the kept c])[0] in [0, 1], ((name, cosine), ...) of the
    competitors whose anchor has a cosine >= ``threshold`` to the text's). Raises ValueError when none is kept.
    """
    similarity = unit_rows(competitors.anchors) @ unit_rows(np.asarray(text_anchor)[None])[0]
    near = similarity >= threshold
    if near.all():
        raise ValueError(f'every competitor ({", ".join(competitors.names)}) has a cosine >= {threshold} to the '
                         'text, so it would score 1 everywhere: use the cosine score, or a vocabulary with other '
                         'names')
    logits = np.asarray(features, dtype=np.float64) @ np.vstack([text_anchor, competitors.anchors[~near]]).T
    logits -= logits.max(1, keepdims=True)
    probabilities = np.exp(logits[:, 0]) / np.exp(logits).sum(1)
    excluded = tuple((name, float(value)) for name, value, left in zip(competitors.names, similarity, near) if left)
    return probabilities.astype(np.float32), excluded


@dataclass(frozen=True)
class QueryScores:
    """The scores of one text at the N points of a scene.

    Attributes:
        text: the query.
        method: 'cosine' or 'softmax' (see the module).
        scores: (N,) float32: cosine in [-1, 1], or probability in [0, 1].
        colour_range: (low, high): the scores drawn dark purple and yellow (cosine: min and max over the scene;
            softmax: 0 and 1).
        competitors: what the text competed with ('' for cosine).
        excluded: ((name, cosine to the text), ...) competitors left out (softmax only).
    """
    text: str
    method: str
    scores: np.ndarray
    colour_range: tuple
    competitors: str = ''
    excluded: tuple = ()

    def statement(self):
        """One line saying what the score is and how its colours are scaled (legends, titles, printout)."""
        low, high = self.colour_range
        if self.method == 'cosine':
            return ('cosine of the L2-normalised point feature and text embedding (raw, in [-1, 1]); colours '
                    f'min-max over this scene: {low:.3f} dark purple to {high:.3f} yellow')
        left_out = ', '.join(f'{name} ({value:.3f})' for name, value in self.excluded) or 'none'
        return (f'softmax probability of "{self.text}" against {self.competitors} (in [0, 1]; left out, cosine >= '
                f'{NEAR_DUPLICATE_COSINE} to the text: {left_out}); colours fixed: 0 dark purple to 1 yellow')


def score_texts(features, texts, anchors, method='cosine', competitors=None):
    """[:class:`QueryScores`] of each text at N points.

    features: (N, D) point features in CLIP's text space; texts: Q strings; anchors: (Q, D) their text anchors;
    method: 'cosine' or 'softmax' (then ``competitors``, a :class:`Competitors`, is required).
    """
    if method == 'cosine':
        return [QueryScores(text, method, column, (float(column.min()), float(column.max())))
                for text, column in zip(texts, cosine_scores(features, anchors).T.copy())]
    if method != 'softmax' or competitors is None:
        raise ValueError(f'score {method!r}: use one of {SCORES}; softmax needs the competitors')
    results = []
    for text, anchor in zip(texts, np.asarray(anchors)):
        scores, excluded = softmax_scores(features, anchor, competitors)
        results.append(QueryScores(text, method, scores, (0.0, 1.0), competitors.source, excluded))
    return results


def query_competitors(anchors_file, vocabulary=None, clip_model=DEFAULT_CLIP_MODEL, clip_pretrained=None):
    """The :class:`Competitors` of the softmax score: the classes of the model's anchor file, or the names of
    ``vocabulary`` (a name of configs/vocabularies or a JSON file; :func:`hicl.open_vocabulary.load_vocabulary`)."""
    if vocabulary is None:
        anchors, names, _ = read_text_anchor_file(anchors_file)
        return Competitors(names, anchors, f"the model's {len(names)} classes")
    loaded = load_vocabulary(vocabulary_path(vocabulary, VOCABULARY_DIR), clip_model, clip_pretrained)
    return Competitors(loaded.names, loaded.anchors, f'the {len(loaded.names)} names of vocabulary {vocabulary}')


def query_scorer(texts, anchors_file, method='cosine', vocabulary=None, clip_model=DEFAULT_CLIP_MODEL,
                 clip_pretrained=None):
    """The scoring of the query tools: a function of (N, D) point features giving [:class:`QueryScores`] of
    ``texts``, with their anchors (:func:`hicl.open_vocabulary.text_anchors`) and, for softmax, their competitors
    (:func:`query_competitors`) made once."""
    anchors = text_anchors(texts, anchors_file, clip_model, clip_pretrained)
    competitors = (query_competitors(anchors_file, vocabulary, clip_model, clip_pretrained) if method == 'softmax'
                   else None)
    return partial(score_texts, texts=list(texts), anchors=anchors, method=method, competitors=competitors)


def add_score_arguments(parser, vocabulary_help=None):
    """--score and --vocabulary of the query tools (``vocabulary_help``: a tool's own meaning of --vocabulary);
    :func:`check_score_arguments` checks them."""
    parser.add_argument('--score', choices=SCORES, default='cosine', help=SCORE_HELP)
    parser.add_argument('--vocabulary', metavar='NAME_OR_FILE',
                        help=vocabulary_help or 'with --score softmax: the names the text competes with (a JSON '
                        'file, or a name in configs/vocabularies, as tools/test.py --vocabulary; default: the '
                        'model\'s classes)')
    return parser


def check_score_arguments(parser, args):
    """Stop with a usage error when --vocabulary is given without --score softmax."""
    if args.vocabulary and args.score != 'softmax':
        parser.error(f'--vocabulary {args.vocabulary} only applies to --score softmax (the cosine score compares '
                     'each text with the points alone)')


def top_point_classes(scores, truth, classes, top_fraction=0.01):
    """What the highest-scoring points of a query are: [(class name, share of the top points)], largest share
    first, over the ``ceil(top_fraction * L)`` labelled points (truth >= 0, of L) with the highest (N,) scores."""
    scores, truth = np.asarray(scores), np.asarray(truth)
    labelled = np.flatnonzero(truth >= 0)
    if not len(labelled):
        return []
    count = max(1, int(np.ceil(top_fraction * len(labelled))))
    top = labelled[np.argsort(-scores[labelled], kind='stable')[:count]]
    ids, counts = np.unique(truth[top], return_counts=True)
    order = np.argsort(-counts, kind='stable')
    return [(classes[ids[i]], counts[i] / count) for i in order]


def query_slug(text):
    """A file-name part for a query text: 'a place to sit' -> 'a_place_to_sit' (lower-case letters and digits, any
    other run as one '_'). A slug over QUERY_SLUG_BYTES bytes (UTF-8) is cut there and ends in '-' and 8 hex digits
    of the SHA-1 of the whole text, so that distinct long texts keep distinct names within file-name limits."""
    slug = ''.join(char if char.isalnum() else '_' for char in text.strip().lower())
    slug = '_'.join(part for part in slug.split('_') if part) or 'query'
    if len(slug.encode()) <= QUERY_SLUG_BYTES:
        return slug
    cut = slug.encode()[:QUERY_SLUG_BYTES].decode(errors='ignore').rstrip('_')
    digest = hashlib.sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()
    return f'{cut}-{digest[:8]}'


def query_slugs(texts):
    """[:func:`query_slug` of each text], refusing two texts with the same slug (the second's files would replace
    the first's) with a ValueError naming both."""
    owners = {}
    for text in texts:
        slug = query_slug(text)
        if slug in owners:
            raise ValueError(f'the texts {owners[slug]!r} and {text!r} would both be written to the files '
                             f'<scene>.{slug}.ply/.png (file names keep lower-case letters and digits only): '
                             'drop one, or make them differ in letters or digits')
        owners[slug] = text
    return list(owners)
