"""``python -m ocpp_schedule``: the command line."""

import sys

from .cli._main import main

sys.exit(main())
