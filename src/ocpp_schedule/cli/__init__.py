"""The ``ocpp-schedule`` command line: one module per group of subcommands.

``_main`` parses and dispatches, and holds the station commands (``validate``,
``composite``); ``_site`` the site commands (``demo``, ``balance``, ``report``);
``_check`` the drift check; ``_common`` reading files and options. Every library
error becomes one line on stderr and exit status 2. The top layer: nothing in the
package imports it.
"""

from ._main import main

__all__ = ["main"]
