"""`make bench`: throughput and latency of the system beside the raw broker it runs on."""
