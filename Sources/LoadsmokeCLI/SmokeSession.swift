import Dispatch
import Foundation
import LoadEngine
import Reporting
import SmokeRunner
import Daemon
import Storage
import Glibc

/// Carries out one `loadsmoke run` in the terminal: header, progress line, Ctrl+C handling, report and exit code.
struct SmokeSession {
    let run: SmokeRun
    let invocation: RunCommand.Invocation
    let console: Console
    /// The database that `--store` appends the run to; closed when the session ends.
    var store: RunStore?

    /// Seconds the requests in flight get to finish after Ctrl+C.
    static let interruptGraceSeconds = 2.0

    func start() -> Int32 {
        let style = TextStyle(isColored: console.usesColor)
        let header = SmokeReport.renderHeader(run.setup, budgets: run.options.budgets, style: style)
        if invocation.isJSON {
            console.write(header, to: STDERR_FILENO)
        } else {
            console.out(header)
        }

        let stop = StopFlag()
        let interrupts = InterruptHandler(console: console) { stop.request() }
        defer { interrupts.restore() }

        let showsProgress = invocation.showsProgress && console.isStderrTerminal
        let report: SmokeReport
        do {
            report = try run.execute(stop: stop, graceSeconds: SmokeSession.interruptGraceSeconds, progress: showsProgress ? progressLine : nil)
        } catch {
            if showsProgress { console.write("\r\u{1B}[K", to: STDERR_FILENO) }
            console.error("error: the run could not be carried out: \(error)")
            return ExitCode.failure
        }
        if showsProgress { console.write("\r\u{1B}[K", to: STDERR_FILENO) }

        let exitCode = report.wasInterrupted ? ExitCode.interrupted : (report.passed ? ExitCode.success : ExitCode.failure)
        let document = report.jsonDocument().serialized(pretty: true) + "\n"
        if invocation.isJSON {
            console.out(document)
        } else {
            console.out(report.renderText(style: style, exitCode: exitCode))
        }
        if let store {
            defer { store.close() }
            do {
                let id = try store.insertCompletedRun(
                    target: run.options.targetName ?? "",
                    startedAt: report.startedAt,
                    outcome: RunRecording.outcome(of: report, finishedAt: Date())
                )
                console.error("stored as run \(id) of target \(run.options.targetName ?? "") in \(store.path)")
            } catch {
                console.error("error: could not store the run in \(store.path): \(error)")
                return exitCode == ExitCode.success ? ExitCode.failure : exitCode
            }
        }
        if let path = invocation.outputPath {
            do {
                try ReportFile.writeAtomically(document, to: path)
            } catch {
                console.error("error: could not write the JSON report: \(error.localizedDescription)")
                return exitCode == ExitCode.success ? ExitCode.failure : exitCode
            }
        }
        return exitCode
    }

    private func progressLine(_ progress: EngineProgress) {
        let line = "\r\u{1B}[K  \(progress.completed)/\(progress.total) done, \(progress.failed) failed, \(progress.inFlight) in flight"
        console.write(line, to: STDERR_FILENO)
    }
}

/// Turns the first SIGINT into a graceful stop; a second one exits at once with 130.
final class InterruptHandler: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    init(console: Console, onFirstInterrupt: @escaping @Sendable () -> Void) {
        SignalRouter.shared.setHandler(SIGINT) { [self] in
            lock.lock()
            count += 1
            let count = self.count
            lock.unlock()
            if count == 1 {
                console.error("\ninterrupted: stopping; requests in flight get \(Int(SmokeSession.interruptGraceSeconds)) s to finish (press Ctrl+C again to quit now)")
                onFirstInterrupt()
            } else {
                _exit(ExitCode.interrupted)
            }
        }
    }

    func restore() {
        SignalRouter.shared.setHandler(SIGINT, nil)
    }
}
