import Storage

extension RunStore {
    /// Returns the newest run of `target` with a verdict (passed, failed or error) among its last `window` runs, so
    /// interrupted and running runs are looked past. Returns nil when there is none.
    func latestVerdictRun(target: String, window: Int = 50) throws -> RunRecord? {
        try runs(RunQuery(target: target, limit: window)).first { $0.status.hasVerdict }
    }
}
