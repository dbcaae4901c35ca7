"""``python -m officehub`` runs the command line."""

from officehub.cli.app import main

main()
