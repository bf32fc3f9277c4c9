import CCurl
import Foundation
import JSONCoding
import Measurement

/// A stop request shared between a signal handler (or the daemon's shutdown) and the engine's event loop.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    public init() {}

    public func request() {
        lock.lock()
        requested = true
        lock.unlock()
    }

    public var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }
}

/// Counts shown by a progress display while a run is going.
public struct EngineProgress: Sendable {
    public var completed: Int
    public var failed: Int
    public var inFlight: Int
    public var total: Int
}

/// What the engine measured.
public struct EngineOutcome: Sendable {
    public var metrics: MetricsRecorder
    /// Seconds from the first request being started to the last one ending.
    public var wallSeconds: Double
    public var wasInterrupted: Bool
    /// Requests still in flight when the grace period after a stop ran out; they are not counted in `metrics`.
    public var abortedInFlight: Int
}

/// Sends a LoadPlan's requests with libcurl's multi interface: one event loop on the calling thread drives every
/// transfer, with one reusable easy handle per concurrent worker (closed loop).
public final class LoadEngine {
    private let plan: LoadPlan
    private let multi: UnsafeMutableRawPointer
    private let headerList: CurlHeaderList
    /// Request bodies in stable memory: CURLOPT_POSTFIELDS points into them without copying.
    private let bodyBuffers: [UnsafeMutableRawBufferPointer]
    private var transfers: [Transfer] = []

    public init(plan: LoadPlan) throws {
        precondition(!plan.bodies.isEmpty, "a load plan needs at least one body")
        try CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { throw CurlError(description: "curl_multi_init failed") }
        self.plan = plan
        self.multi = multi

        var lines = ["Content-Type: application/json", "Accept: application/json"]
        lines += plan.headers.map { "\($0.name): \($0.value)" }
        // An empty Expect header stops curl from waiting for 100 Continue before sending large bodies.
        lines.append("Expect:")
        headerList = try CurlHeaderList(lines)

        bodyBuffers = plan.bodies.map { body in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.count, 1), alignment: 1)
            buffer.copyBytes(from: body)
            return buffer
        }

        let workerCount = max(1, min(plan.concurrency, plan.requestCount))
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, workerCount)
        for _ in 0..<workerCount {
            let transfer = try Transfer(maxBodyBytes: plan.maxBodyBytes, fallbackHeader: plan.fallbackSignal.headerName)
            try configure(transfer)
            transfers.append(transfer)
        }
    }

    deinit {
        for transfer in transfers { curl_multi_remove_handle(multi, transfer.handle) }
        transfers.removeAll()
        curl_multi_cleanup(multi)
        for buffer in bodyBuffers { buffer.deallocate() }
    }

    /// Options that stay the same for every request of the run.
    private func configure(_ transfer: Transfer) throws {
        let handle = transfer.handle
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        try check(ccurl_easy_setopt_string(handle, CURLOPT_URL, plan.url), "CURLOPT_URL \(plan.url)")
        try check(ccurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        try check(ccurl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, plan.method), "CURLOPT_CUSTOMREQUEST")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList.pointer), "CURLOPT_HTTPHEADER")
        try check(ccurl_easy_setopt_string(handle, CURLOPT_USERAGENT, "loadsmoke/\(LoadEngine.version)"), "CURLOPT_USERAGENT")
        try check(ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(max(1, (plan.timeoutSeconds * 1000).rounded(.up)))), "CURLOPT_TIMEOUT_MS")
        try check(ccurl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, transferWriteCallback), "CURLOPT_WRITEFUNCTION")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        try check(ccurl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, transferHeaderCallback), "CURLOPT_HEADERFUNCTION")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer), "CURLOPT_ERRORBUFFER")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_PRIVATE, context), "CURLOPT_PRIVATE")
        // Accept compressed bodies when the server offers them, as clients of a chat API do.
        try check(ccurl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""), "CURLOPT_ACCEPT_ENCODING")
    }

    /// The version in the User-Agent header.
    public static let version = "0.1.0"

    /// Runs the plan to the end or until `stop` is requested, then waits at most `graceSeconds` for requests in
    /// flight; the rest are aborted and counted in `abortedInFlight`.
    /// - Parameter progress: called from the event loop about every 100 ms and once at the end.
    public func run(
        stop: StopFlag = StopFlag(), graceSeconds: Double = 2, progress: ((EngineProgress) -> Void)? = nil
    ) throws -> EngineOutcome {
        var recorder = MetricsRecorder()
        var idle = transfers
        var inFlight = 0
        var nextIndex = 0
        var stopDeadline: Double?
        var lastProgress = 0.0
        let start = monotonicSeconds()
        var lastEnd = start

        func startNext() throws {
            while inFlight < transfers.count, nextIndex < plan.requestCount, stopDeadline == nil, let transfer = idle.popLast() {
                transfer.reset(requestIndex: nextIndex)
                let buffer = bodyBuffers[nextIndex % bodyBuffers.count]
                let bodyLength = plan.bodies[nextIndex % plan.bodies.count].count
                try check(ccurl_easy_setopt_off_t(transfer.handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bodyLength)), "CURLOPT_POSTFIELDSIZE_LARGE")
                try check(ccurl_easy_setopt_pointer(transfer.handle, CURLOPT_POSTFIELDS, buffer.baseAddress), "CURLOPT_POSTFIELDS")
                let added = curl_multi_add_handle(multi, transfer.handle)
                guard added == CURLM_OK else {
                    throw CurlError(description: "curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(added)))")
                }
                nextIndex += 1
                inFlight += 1
            }
        }

        try startNext()
        while inFlight > 0 {
            var running: Int32 = 0
            let performed = curl_multi_perform(multi, &running)
            guard performed == CURLM_OK else {
                throw CurlError(description: "curl_multi_perform failed: \(String(cString: curl_multi_strerror(performed)))")
            }

            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                var contextPointer: UnsafeMutablePointer<CChar>?
                _ = ccurl_easy_getinfo_pointer(handle, CURLINFO_PRIVATE, &contextPointer)
                guard let contextPointer else { continue }
                let transfer = Unmanaged<Transfer>.fromOpaque(UnsafeRawPointer(contextPointer)).takeUnretainedValue()
                curl_multi_remove_handle(multi, handle)
                recorder.add(result(of: transfer, code: code))
                lastEnd = monotonicSeconds()
                inFlight -= 1
                idle.append(transfer)
            }

            let now = monotonicSeconds()
            if stopDeadline == nil, stop.isRequested { stopDeadline = now + graceSeconds }
            if let deadline = stopDeadline, now >= deadline, inFlight > 0 { break }
            try startNext()
            if let progress, now - lastProgress >= 0.1 {
                lastProgress = now
                progress(EngineProgress(completed: recorder.completedCount, failed: recorder.failedCount, inFlight: inFlight, total: plan.requestCount))
            }
            if inFlight > 0 {
                _ = curl_multi_poll(multi, nil, 0, 50, nil)
            }
        }

        // Requests still in flight here were cut off by the stop deadline.
        let aborted = inFlight
        for transfer in transfers { curl_multi_remove_handle(multi, transfer.handle) }
        if aborted > 0 { lastEnd = monotonicSeconds() }
        progress?(EngineProgress(completed: recorder.completedCount, failed: recorder.failedCount, inFlight: 0, total: plan.requestCount))
        return EngineOutcome(
            metrics: recorder,
            wallSeconds: lastEnd - start,
            wasInterrupted: stopDeadline != nil,
            abortedInFlight: aborted
        )
    }

    /// Reads the finished transfer's status, timings and fallback signal.
    private func result(of transfer: Transfer, code: CURLcode) -> RequestResult {
        let handle = transfer.handle
        var status = 0
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)

        func micros(_ info: CURLINFO) -> Double {
            var value: curl_off_t = 0
            _ = ccurl_easy_getinfo_off_t(handle, info, &value)
            return Double(value)
        }
        let nameLookup = micros(CURLINFO_NAMELOOKUP_TIME_T)
        let connect = micros(CURLINFO_CONNECT_TIME_T)
        let appConnect = micros(CURLINFO_APPCONNECT_TIME_T)
        let preTransfer = micros(CURLINFO_PRETRANSFER_TIME_T)
        let startTransfer = micros(CURLINFO_STARTTRANSFER_TIME_T)
        let total = micros(CURLINFO_TOTAL_TIME_T)

        // curl's timers all count from the transfer's start; zero means the phase did not happen.
        let phases = PhaseTimings(
            dns: nameLookup / 1000,
            connect: max(0, connect - nameLookup) / 1000,
            tls: appConnect > 0 ? max(0, appConnect - connect) / 1000 : 0,
            timeToFirstByte: startTransfer > 0 ? max(0, startTransfer - preTransfer) / 1000 : 0
        )
        let failure = FailureClassifier.classify(curlCode: code, status: status, curlMessage: transfer.errorMessage)
        let isFallback = failure == nil && (transfer.isFallbackHeader || bodyReportsFallback(transfer))
        return RequestResult(
            latency: max(0, total - preTransfer) / 1000,
            status: status,
            failure: failure,
            isFallback: isFallback,
            phases: phases,
            bodyBytes: transfer.bodyBytes,
            isBodyTruncated: transfer.isBodyTruncated
        )
    }

    /// Whether the body is a JSON object whose top-level fallback field is `true`. A truncated body is not parsed.
    private func bodyReportsFallback(_ transfer: Transfer) -> Bool {
        guard !transfer.isBodyTruncated, transfer.body.first(where: { $0 > 0x20 }) == UInt8(ascii: "{"),
              let document = try? JSONValue.parse(transfer.body)
        else { return false }
        return document[plan.fallbackSignal.bodyField]?.boolValue == true
    }
}

/// Seconds on the monotonic clock, which no wall-clock change moves.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
