"""Paper Fig. 4: predictions of one or two trained 3D nets next to the ground truth, top-down, one row per scene:
python tools/plot_predictions.py --model "EXP I baseline" CONFIG CKPT [--model "EXP V HICL" CONFIG CKPT]
    [--scenes ID ...] [--split test] --out fig4.png

Each prediction panel is titled with the net's mIoU on that scene (unlabelled points do not count); the
unlabelled truth is grey. Prints the per-scene mIoU table and the PNG written.
"""
from hicl.experiments.figure_inputs import align_scenes, figure_argument_parser, model_predictions, parse_figure_args
from hicl.vis.figures import prediction_figure, save_figure, scene_mious


def main(argv=None):
    args = parse_figure_args(figure_argument_parser(__doc__), argv)
    names, per_model = [], []
    for name, metainfo, predictions in model_predictions(args.model, args.split, args.scenes, args.cfg_options):
        names.append(name)
        per_model.append(list(predictions))
    rows = align_scenes(per_model)
    mious = scene_mious(rows, len(metainfo['classes']))
    save_figure(prediction_figure(rows, names, mious, metainfo['classes'], metainfo['palette']), args.out)
    print('scene         ' + ''.join(f'  {name:>16}' for name in names))
    for row, row_mious in zip(rows, mious):
        print(f'{row[0].scene_id:<14}' + ''.join(f'  {100 * miou:>16.1f}' for miou in row_mious))
    print(f'wrote {args.out}: {len(rows)} scenes x (ground truth + {len(names)} models), mIoU in %')


if __name__ == '__main__':
    main()
