"""On-demand benchmarks (`make bench`): a synthetic instance, a load harness, and one module per figure."""
