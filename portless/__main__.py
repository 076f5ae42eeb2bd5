"""``python -m portless`` is the ``portless`` command."""

from portless.cli import main

raise SystemExit(main())
