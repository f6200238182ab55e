"""`python -m supervm.launcher` is `supervm-launch`."""

from supervm.launcher.cli import main

raise SystemExit(main())
