#!/usr/bin/env python
"""Published-compatible entry point: finetune PIXEL for named entity recognition on CoNLL files (train/dev/test.txt in --data_dir) or a dataset saved to disk.

Equivalent to `pixel finetune ner ...`; accepts every flag of the published pixel-m4 script (renamed
transformers-4.28 flags are mapped, removed ones are accepted with a warning; see pixel/train/arguments.py).
"""

import sys
from pathlib import Path

from pixel.train.finetune import main

if __name__ == "__main__":
    # As published, these scripts always render with the bigrams strategy; a later --rendering_strategy wins.
    sys.exit(main(["ner", "--rendering_strategy=bigrams", *sys.argv[1:]], prog=Path(sys.argv[0]).name))
