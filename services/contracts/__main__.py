"""`python -m services.contracts DIRECTORY`."""

import sys

from services.contracts import main

raise SystemExit(main(sys.argv[1:]))
