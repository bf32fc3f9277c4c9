-- Token timings of streamed runs, in milliseconds except tokens_per_s. Every column is NULL
-- for runs that did not stream and for runs stored before this migration.
ALTER TABLE runs ADD COLUMN ttft_p50_ms REAL;
ALTER TABLE runs ADD COLUMN ttft_p95_ms REAL;
ALTER TABLE runs ADD COLUMN ttft_p99_ms REAL;
ALTER TABLE runs ADD COLUMN itl_p50_ms REAL;
ALTER TABLE runs ADD COLUMN itl_p95_ms REAL;
ALTER TABLE runs ADD COLUMN itl_p99_ms REAL;
-- Mean over streams of each stream's decode rate, in tokens per second.
ALTER TABLE runs ADD COLUMN tokens_per_s REAL;
