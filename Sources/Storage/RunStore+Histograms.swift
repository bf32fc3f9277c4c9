import Foundation
import Measurement

extension RunStore {
    /// Merges the latency histograms of the target's runs with a verdict (`passed`, `failed` or
    /// `error`) that started in `since ..< until`, and returns the distribution over all their
    /// successful requests, in milliseconds. Percentiles are nearest-rank over the merge, while
    /// mean, min, max and count are exact. Returns nil when no such run has a histogram.
    /// Runs whose stored histogram fails to decode are left out. `trend` lists their ids, and
    /// `run(id:)` returns each decoding error.
    public func mergedLatency(target: String, since: Date, until: Date) throws -> Distribution? {
        try withConnection { connection in
            try connection.withStatement(
                """
                SELECT runs.id, run_histograms.histogram
                FROM runs JOIN run_histograms ON run_histograms.run_id = runs.id
                WHERE runs.target = ? AND runs.started_at >= ? AND runs.started_at < ?
                  AND runs.status IN ('passed', 'failed', 'error')
                """,
                [.text(target), .date(since), .date(until)]
            ) { statement in
                // Rows are decoded as they are stepped, so only one run's bytes are held at a time.
                var merged: LatencyHistogram?
                while try statement.step() {
                    let runID = statement.int64(0)
                    guard case let .success(histogram) = decodeHistogram(statement.blob(1), runID: runID,
                                                                          step: "mergedLatency") else { continue }
                    merged.merge(histogram)
                }
                return merged?.distribution()
            }
        }
    }

    /// Decodes a stored histogram, or returns a `corruptData` error that names the run.
    func decodeHistogram(_ blob: [UInt8], runID: Int64, step: String) -> Result<LatencyHistogram, StorageError> {
        do {
            return .success(try LatencyHistogram(decoding: blob))
        } catch {
            return .failure(StorageError.undecodableHistogram(path: path, step: step, runID: runID, cause: error))
        }
    }
}

extension Optional where Wrapped == LatencyHistogram {
    /// Merges `histogram` into the wrapped histogram, or stores it when there is none yet.
    mutating func merge(_ histogram: LatencyHistogram) {
        if self == nil {
            self = histogram
        } else {
            self?.merge(histogram)
        }
    }
}
