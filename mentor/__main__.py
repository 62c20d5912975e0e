"""``python -m mentor`` runs the command line."""

from mentor.cli import main

main()
