#!/usr/bin/env python
"""Published-compatible entry point: finetune PIXEL for SIB-200 topic classification (--data_dir ROOT --language xxx_Xxxx, or --data_dir of one language).

Equivalent to `pixel finetune sib ...`; accepts every flag of the published pixel-m4 script (renamed
transformers-4.28 flags are mapped, removed ones are accepted with a warning; see pixel/train/arguments.py).
"""

import sys
from pathlib import Path

from pixel.train.finetune import main

if __name__ == "__main__":
    # As published, these scripts always render with the bigrams strategy; a later --rendering_strategy wins.
    sys.exit(main(["sib", "--rendering_strategy=bigrams", *sys.argv[1:]], prog=Path(sys.argv[0]).name))
