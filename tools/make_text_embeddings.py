"""Write the fixed text anchors T (C x D) of a label set.

  # CLIP ViT-B/16 with the 85-template prompt ensemble (weights: 'openai' downloads; a local file works offline)
  python tools/make_text_embeddings.py --label-set scannet20 --model ViT-B-16 --pretrained /path/ViT-B-16.pt \
      --out data/scannet/text_anchors.npz
  # any names, e.g. those of an open vocabulary, encoded once (then "anchors_file" in the vocabulary's JSON)
  python tools/make_text_embeddings.py --names chair stool "a place to sit" --pretrained /path/ViT-B-16.pt --out FILE
  # random orthonormal anchors from a seed (the simulated labeller of the SynthRooms demo)
  python tools/make_text_embeddings.py --label-set scannet20 --random-orthonormal --seed 0 --out FILE
"""
import argparse

from hicl.label_sets import LABEL_SETS, get_label_set
from hicl.pseudo_labels.anchors import (encode_text_anchors, prompt_templates, random_orthonormal_anchors,
                                        save_text_anchors)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--label-set', default='scannet20', choices=sorted(LABEL_SETS))
    parser.add_argument('--names', nargs='+', metavar='NAME',
                        help='encode these names instead of the classes of --label-set (e.g. a vocabulary\'s)')
    parser.add_argument('--out', required=True, help='anchor file to write (.npz)')
    parser.add_argument('--model', default='ViT-B-16', help='open_clip model name')
    parser.add_argument('--pretrained', default='openai',
                        help="open_clip weights: a tag such as 'openai', a local checkpoint path, or 'none' "
                             '(random weights, for testing the pipeline only)')
    parser.add_argument('--random-orthonormal', action='store_true',
                        help='no CLIP: orthonormal anchors drawn from --seed (simulated labeller)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--embed-dim', type=int, default=512, help='dimension of random orthonormal anchors')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    classes = tuple(args.names) if args.names else get_label_set(args.label_set)['classes']
    source = dict(names=list(classes)) if args.names else dict(label_set=args.label_set)
    if args.random_orthonormal:
        anchors = random_orthonormal_anchors(len(classes), args.embed_dim, args.seed)
        meta = dict(kind='random_orthonormal', seed=args.seed, **source)
    else:
        import open_clip
        pretrained = None if args.pretrained.lower() == 'none' else args.pretrained
        model = open_clip.create_model(args.model, pretrained=pretrained, device=args.device)
        tokenizer = open_clip.get_tokenizer(args.model)
        templates = prompt_templates()
        anchors = encode_text_anchors(model, tokenizer, classes, templates, device=args.device)
        meta = dict(kind='open_clip', model=args.model, pretrained=args.pretrained, num_templates=len(templates),
                    **source)
    save_text_anchors(args.out, anchors, classes, meta)
    print(f'wrote {args.out}: {anchors.shape[0]} classes x {anchors.shape[1]} dims ({meta["kind"]})')


if __name__ == '__main__':
    main()
