"""Export the 3D net of a training checkpoint for inference and sharing:
python tools/export_3d_net.py CONFIG CKPT OUT.pth (tools/test.py takes either file)."""
import argparse

from hicl.engine.export import export_3d_net
from hicl.engine.runtime import ConfigOptionsAction, add_settings_mismatch_argument, load_config


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config', help='config file the checkpoint was trained with')
    parser.add_argument('checkpoint', help='training checkpoint (.pth) written by tools/train.py')
    parser.add_argument('out', help='where to write the 3D-net weights (.pth)')
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, help='override config keys, key=value')
    args = add_settings_mismatch_argument(parser).parse_args()
    cfg = load_config(args.config, args.cfg_options)
    kept, dropped = export_3d_net(cfg, args.checkpoint, args.out, args.allow_settings_mismatch)
    print(f'wrote {args.out}: {kept} tensors of the 3D net; {dropped} correlation-neck tensors and the optimizer '
          'states left out')


if __name__ == '__main__':
    main()
