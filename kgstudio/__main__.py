"""``python -m kgstudio`` is the ``kgstudio`` command."""

import sys

from kgstudio.cli.main import main

sys.exit(main())
