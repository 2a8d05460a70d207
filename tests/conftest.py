"""Settings for the whole suite."""

from hypothesis import HealthCheck, settings

# Speed is measured in benchmarks/, never asserted in tests. Hypothesis has two timing
# checks of its own (a per-example deadline, and "input generation is slow" when a
# strategy takes over a second to produce examples) that fail on a busy machine: CI saw
# the second on test_generated_pages_keep_good_rows_and_count_bad_ones. Both are off;
# every test keeps its example counts.
settings.register_profile("queue-tui", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("queue-tui")
