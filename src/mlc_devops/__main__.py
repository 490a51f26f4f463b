"""``python -m mlc_devops``."""

import sys

from mlc_devops.cli import main

if __name__ == "__main__":
    sys.exit(main())
