-- Run history: one row per smoke run, its error kinds, budget results and alert, plus counters
-- that survive pruning. Times are unix seconds (REAL), and latencies are milliseconds.

-- AUTOINCREMENT keeps ids of pruned runs from being reused, so `before_id` pagination and
-- links to /runs/ID stay stable.
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    target         TEXT    NOT NULL CHECK (target <> ''),
    started_at     REAL    NOT NULL,
    finished_at    REAL,
    status         TEXT    NOT NULL
                   CHECK (status IN ('running', 'passed', 'failed', 'error', 'interrupted')),
    requests       INTEGER NOT NULL DEFAULT 0 CHECK (requests >= 0),
    succeeded      INTEGER NOT NULL DEFAULT 0 CHECK (succeeded >= 0),
    failed         INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    fallbacks      INTEGER NOT NULL DEFAULT 0 CHECK (fallbacks >= 0),
    duration_s     REAL    NOT NULL DEFAULT 0,
    throughput_rps REAL    NOT NULL DEFAULT 0,
    error_rate     REAL    NOT NULL DEFAULT 0,
    fallback_rate  REAL    NOT NULL DEFAULT 0,
    -- Latency percentiles are NULL when no request completed.
    p50_ms         REAL,
    p95_ms         REAL,
    p99_ms         REAL,
    mean_ms        REAL,
    min_ms         REAL,
    max_ms         REAL,
    -- The run's full JSON report, or NULL while running and for runs that ended without one.
    report_json    TEXT,
    CHECK ((status = 'running') = (finished_at IS NULL))
);

-- /runs?target= pages by id. The latest run per target and the failing streak read by target
-- and status.
CREATE INDEX runs_by_target_id ON runs (target, id);
CREATE INDEX runs_by_target_status_id ON runs (target, status, id);
-- /runs?status= and the start-up search for runs left `running` by a crash.
CREATE INDEX runs_by_status_id ON runs (status, id);
-- /trend and /runs?target=&since= scan one target's time range.
CREATE INDEX runs_by_target_started ON runs (target, started_at);
-- /runs?since= without a target, and pruning by age.
CREATE INDEX runs_by_started ON runs (started_at);

-- Error kinds of one run with their counts, such as `timeout` or `http_503`.
CREATE TABLE run_errors (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind   TEXT    NOT NULL,
    count  INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (run_id, kind)
) WITHOUT ROWID;

-- Budget results of one run in the order the configuration lists them.
CREATE TABLE run_budgets (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    -- NULL when the run produced no value for the budget's metric (no successful request).
    actual      REAL,
    limit_value REAL    NOT NULL,
    unit        TEXT    NOT NULL,
    passed      INTEGER NOT NULL CHECK (passed IN (0, 1)),
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;

-- The alert command that ran after a run, at most one per run.
CREATE TABLE run_alerts (
    run_id      INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    event       TEXT    NOT NULL CHECK (event <> ''),
    -- Exit status when the command exited, signal number when a signal ended it, and both
    -- NULL when the command could not be started.
    exit_status INTEGER,
    signal      INTEGER,
    -- At most the first 4096 bytes of the command's combined output.
    output      TEXT    NOT NULL,
    started_at  REAL    NOT NULL,
    finished_at REAL    NOT NULL
);

-- Counters for Prometheus: runs that reached each final status and alerts per event, per
-- target. Triggers keep them, and pruning does not lower them, so they only grow.
CREATE TABLE run_totals (
    target TEXT    NOT NULL,
    status TEXT    NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (target, status)
) WITHOUT ROWID;

CREATE TABLE alert_totals (
    target TEXT    NOT NULL,
    event  TEXT    NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (target, event)
) WITHOUT ROWID;

CREATE TRIGGER runs_count_inserted_final AFTER INSERT ON runs
WHEN NEW.status <> 'running'
BEGIN
    INSERT INTO run_totals (target, status, count) VALUES (NEW.target, NEW.status, 1)
    ON CONFLICT (target, status) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER runs_count_finished AFTER UPDATE OF status ON runs
WHEN OLD.status = 'running' AND NEW.status <> 'running'
BEGIN
    INSERT INTO run_totals (target, status, count) VALUES (NEW.target, NEW.status, 1)
    ON CONFLICT (target, status) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER run_alerts_count_inserted AFTER INSERT ON run_alerts
BEGIN
    INSERT INTO alert_totals (target, event, count)
    SELECT target, NEW.event, 1 FROM runs WHERE id = NEW.run_id
    ON CONFLICT (target, event) DO UPDATE SET count = count + 1;
END;
