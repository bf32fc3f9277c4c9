-- Latency histogram of each run's successful requests, so /trend can merge runs and report
-- percentiles over all their requests. A side table keeps the runs rows small: an encoded
-- histogram takes from about a hundred bytes to tens of kilobytes, and /runs never reads it.
-- Runs without a successful request, runs still running and runs stored before this migration
-- have no row here.
CREATE TABLE run_histograms (
    run_id    INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    -- LatencyHistogram.encoded(): version byte, bucket layout, counts and a CRC-32.
    histogram BLOB    NOT NULL CHECK (length(histogram) > 0)
);
