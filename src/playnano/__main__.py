"""``python -m playnano``: the same as the ``playnano`` command."""

from playnano.cli import main

if __name__ == "__main__":
    main()
