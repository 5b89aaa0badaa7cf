"""``python -m bench``: run the benchmark."""
from bench.run import main

main()
