import sys

from scing_core.cli import main

sys.exit(main())
