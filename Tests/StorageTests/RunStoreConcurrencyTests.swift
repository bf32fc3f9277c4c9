import Foundation
import XCTest
@testable import Storage

/// Writers and readers on several threads, sharing one store or using one store each.
final class RunStoreConcurrencyTests: XCTestCase {
    private var directory: TemporaryDirectory!
    /// Maximum time to wait for each test's threads to finish.
    private let deadline: TimeInterval = 120

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory.remove()
    }

    /// Collects errors from worker threads.
    private final class ErrorLog: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [String] = []

        func append(_ error: Error, worker: String) {
            lock.lock()
            errors.append("\(worker): \(error)")
            lock.unlock()
        }

        var all: [String] {
            lock.lock()
            defer { lock.unlock() }
            return errors
        }
    }

    private func runWorkers(_ workers: [(String, @Sendable () throws -> Void)]) -> [String] {
        let group = DispatchGroup()
        let log = ErrorLog()
        for (name, work) in workers {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    try work()
                } catch {
                    log.append(error, worker: name)
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + deadline), .success, "workers did not finish in \(deadline) s")
        return log.all
    }

    func testSharedStoreWriterAndReaders() throws {
        let store = try RunStore(path: directory.path("runs.db"))
        defer { store.close() }
        let runCount = 150

        let writer: @Sendable () throws -> Void = {
            for index in 0..<runCount {
                let id = try store.beginRun(target: "chat", startedAt: time(Double(index)))
                try store.finishRun(id: id, outcome: sampleOutcome(finishedAt: time(Double(index) + 1)))
            }
        }
        let reader: @Sendable () throws -> Void = {
            for _ in 0..<runCount {
                _ = try store.runs(RunQuery(target: "chat", limit: 20))
                _ = try store.latestRuns()
                _ = try store.runCounts()
            }
        }
        let errors = runWorkers([("writer", writer), ("reader 1", reader), ("reader 2", reader)])

        XCTAssertEqual(errors, [])
        XCTAssertEqual(try store.runCounts()["chat"], [.passed: runCount])
        XCTAssertEqual(try store.integrityCheck(), "ok")
    }

    func testSeparateConnectionsDoNotFailBusy() throws {
        let path = directory.path("runs.db")
        // Open once first so the workers do not race to create the schema.
        let setup = try RunStore(path: path)
        setup.close()
        let runsPerWriter = 100

        func writer(_ target: String) -> @Sendable () throws -> Void {
            return {
                let store = try RunStore(path: path)
                defer { store.close() }
                for index in 0..<runsPerWriter {
                    let id = try store.beginRun(target: target, startedAt: time(Double(index)))
                    try store.finishRun(id: id, outcome: sampleOutcome(finishedAt: time(Double(index) + 1)))
                    if index % 25 == 0 {
                        _ = try store.prune(olderThan: time(-1))
                    }
                }
            }
        }
        let reader: @Sendable () throws -> Void = {
            let store = try RunStore(path: path, readOnly: true)
            defer { store.close() }
            for _ in 0..<runsPerWriter {
                _ = try store.runs(RunQuery(limit: 50))
                _ = try store.trend(target: "chat", metric: .p95, bucketSeconds: 60, since: time(0), until: time(1000))
            }
        }
        let errors = runWorkers([("writer chat", writer("chat")), ("writer search", writer("search")),
                                 ("reader", reader)])

        XCTAssertEqual(errors, [])
        let store = try RunStore(path: path)
        defer { store.close() }
        XCTAssertEqual(try store.runCounts(), ["chat": [.passed: runsPerWriter], "search": [.passed: runsPerWriter]])
        XCTAssertEqual(try store.integrityCheck(), "ok")
    }

    func testConcurrentFirstOpensMigrateOnce() throws {
        let path = directory.path("runs.db")
        let openers: [(String, @Sendable () throws -> Void)] = (0..<6).map { index in
            ("opener \(index)", {
                let store = try RunStore(path: path)
                store.close()
            })
        }

        let errors = runWorkers(openers)

        XCTAssertEqual(errors, [])
        let store = try RunStore(path: path)
        defer { store.close() }
        XCTAssertEqual(try store.integerForTest("SELECT COUNT(*) FROM schema_migrations"), Migration.embedded.count)
    }
}
