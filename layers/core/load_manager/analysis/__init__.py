"""Results analysis as pure functions: criteria, auto-stop, downsampling, comparisons. No I/O here."""
