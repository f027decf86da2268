"""``python -m raadata.sandbox``: the same as ``raadata sandbox``."""

from raadata.sandbox.cli import sandbox_command

if __name__ == "__main__":
    sandbox_command(prog_name="python -m raadata.sandbox")
