"""``python -m raadata``: the command line."""

from raadata._cli import main

main(prog_name="raadata")
