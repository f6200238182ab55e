"""`python -m supervm` runs the command line."""

import sys

from supervm.cli import main

sys.exit(main())
