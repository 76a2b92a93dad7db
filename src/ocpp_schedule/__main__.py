"""``python -m ocpp_schedule``: the command line."""

import sys

from .cli import main

sys.exit(main())
