"""``python -m raadata``: the command line."""

from raadata.cli import main

main(prog_name="raadata")
