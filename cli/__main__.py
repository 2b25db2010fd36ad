"""``python -m cli`` is the ``tracklists`` console script."""

from cli.main import main

main()
