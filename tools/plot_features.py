"""Paper Fig. 7: t-SNE of the CLIP-space point features of one or two trained 3D nets, coloured by true class:
python tools/plot_features.py --model "EXP I baseline" CONFIG CKPT [--model "EXP V HICL" CONFIG CKPT]
    [--scenes ID ...] [--split test] [--points-per-class 200] [--seed 0] --out fig7.png

The points are drawn once from the labelled points of the scenes (up to --points-per-class of each true class,
uniformly, seeded) and every net's features of the same points are embedded (scikit-learn t-SNE, PCA init, the
same seed). Each panel is titled with the net's feature compactness on those points (within-class over
between-class variance; smaller is more compact). Prints the compactness and the PNG written.
"""
import numpy as np

from hicl.experiments.figure_inputs import figure_argument_parser, model_predictions, parse_figure_args
from hicl.vis.figures import (POINTS_PER_CLASS, check_same_draw, draw_per_class, feature_compactness_of, feature_figure,
                              save_figure, tsne_embedding)


def main(argv=None):
    parser = figure_argument_parser(__doc__)
    parser.add_argument('--points-per-class', type=int, default=POINTS_PER_CLASS,
                        help='most points drawn of each true class, over all the scenes')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draw and of t-SNE')
    args = parse_figure_args(parser, argv)
    names, samples = [], []
    for name, metainfo, predictions in model_predictions(args.model, args.split, args.scenes, args.cfg_options):
        names.append(name)
        samples.append(draw_per_class(predictions, args.points_per_class, args.seed))
    check_same_draw(samples)
    compactness = [feature_compactness_of(sample) for sample in samples]
    embeddings = [tsne_embedding(sample.features, args.seed) for sample in samples]
    truth = samples[0].truth
    save_figure(feature_figure(names, embeddings, truth, compactness, metainfo['classes'], metainfo['palette']),
                args.out)
    for name, value in zip(names, compactness):
        print(f'{name}: compactness {value:.3f}')
    print(f'wrote {args.out}: t-SNE of {len(truth)} points ({len(np.unique(truth))} classes, at most '
          f'{args.points_per_class} each) per model')


if __name__ == '__main__':
    main()
