"""`python -m services.cli`: the `salesledger` command."""

import sys

from services.cli import main

sys.exit(main())
