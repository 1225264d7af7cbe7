"""`python -m indexadvisor`."""

from .cli import main

main()
