"""`python -m docgen`."""

import sys

from docgen.cli.main import main

sys.exit(main())
