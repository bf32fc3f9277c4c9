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

/// The engine's measurements of one run.
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
    /// Header lines every request carries; a per-request id header is appended to a copy of them.
    private let headerLines: [String]
    private let headerList: CurlHeaderList
    /// Request bodies in stable memory: CURLOPT_POSTFIELDS points into them without copying.
    private let bodyBuffers: [UnsafeMutableRawBufferPointer]
    private var transfers: [Transfer] = []
    // Plan facts read for every request, kept apart from `plan` so the hot path copies no struct and retains nothing.
    private let bodyLengths: [Int]
    private let bodyIndex: (@Sendable (Int) -> Int)?
    private let bodyProvider: (@Sendable (Int) -> [UInt8])?
    private let isBodylessMethod: Bool
    private let isOpenLoop: Bool
    private let expectedStatuses: StatusMatcher?
    private let hasBodyOrHeaderChecks: Bool
    private let needsJSONBody: Bool
    /// The fallback field as a JSON Pointer, computed once rather than per response.
    private lazy var fallbackPointer = plan.fallbackSignal.bodyPointer
    /// The quoted last token of the fallback field's pointer, as it appears in a JSON body.
    private lazy var fallbackKeyBytes: [UInt8] = {
        let token = plan.fallbackSignal.bodyPointer.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        return Array(JSONValue.quoted(key).utf8)
    }()
    /// Rounds milliseconds to whole microseconds, the resolution of curl's timers, so every latency in reports and
    /// storage has the same precision whichever clock it came from.
    static func microsecondPrecision(_ milliseconds: Double) -> Double {
        (milliseconds * 1000).rounded() / 1000
    }

    /// Methods sent without a body when the body is empty.
    private static let bodylessMethods: Set<String> = ["GET", "HEAD", "DELETE", "OPTIONS"]

    public init(plan: LoadPlan) throws {
        precondition(!plan.bodies.isEmpty, "a load plan needs at least one body")
        try CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { throw CurlError(description: "curl_multi_init failed") }
        self.plan = plan
        self.multi = multi

        let accept = plan.stream == nil ? "application/json" : "text/event-stream, application/x-ndjson, application/json"
        var lines = ["Content-Type: application/json", "Accept: \(accept)"]
        lines += plan.headers.map { "\($0.name): \($0.value)" }
        // An empty Expect header stops curl from waiting for 100 Continue before sending large bodies.
        lines.append("Expect:")
        headerLines = lines
        headerList = try CurlHeaderList(lines)

        bodyLengths = plan.bodies.map(\.count)
        bodyIndex = plan.bodyIndex
        bodyProvider = plan.bodyProvider
        isBodylessMethod = LoadEngine.bodylessMethods.contains(plan.method)
        isOpenLoop = plan.pacing != .closed
        expectedStatuses = plan.checks.expectedStatuses
        hasBodyOrHeaderChecks = !plan.checks.jsonFieldPointers.isEmpty || !plan.checks.headers.isEmpty
        needsJSONBody = !plan.checks.jsonFieldPointers.isEmpty
        bodyBuffers = plan.bodies.map { body in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.count, 1), alignment: 1)
            buffer.copyBytes(from: body)
            return buffer
        }

        // The closed loop makes its workers up front; the open loop grows its pool up to the in-flight bound.
        let workerCount: Int
        switch plan.pacing {
        case .closed:
            let total = plan.length.durationSeconds == nil ? plan.length.requests + plan.length.warmupRequests : Int.max
            workerCount = max(1, min(plan.concurrency, total))
            _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, workerCount)
        case let .open(_, maxInFlight):
            workerCount = 0
            _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxInFlight)
        }
        for _ in 0..<workerCount {
            transfers.append(try makeTransfer())
        }
    }

    private func makeTransfer() throws -> Transfer {
        let transfer = try Transfer(maxBodyBytes: plan.maxBodyBytes, fallbackSignal: plan.fallbackSignal, streamFormat: plan.stream)
        try configure(transfer)
        return transfer
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
        // POST follows from the body; other methods replace the request line's verb, and HEAD also expects no body.
        if plan.method != "POST" {
            try check(ccurl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, plan.method), "CURLOPT_CUSTOMREQUEST")
        }
        if plan.method == "HEAD" {
            try check(ccurl_easy_setopt_long(handle, CURLOPT_NOBODY, 1), "CURLOPT_NOBODY")
        }
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList.pointer), "CURLOPT_HTTPHEADER")
        try check(ccurl_easy_setopt_string(handle, CURLOPT_USERAGENT, "loadsmoke/\(LoadEngine.version)"), "CURLOPT_USERAGENT")
        try check(ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(max(1, (plan.timeoutSeconds * 1000).rounded(.up)))), "CURLOPT_TIMEOUT_MS")
        try check(ccurl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, transferWriteCallback), "CURLOPT_WRITEFUNCTION")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer), "CURLOPT_ERRORBUFFER")
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_PRIVATE, context), "CURLOPT_PRIVATE")
        // Asking for compression costs about a tenth of the instructions per request (callgrind, curl 7.88), so it is
        // opt-in, as in curl, wrk and k6. An empty string offers every encoding this libcurl can decode.
        if plan.acceptsCompression {
            try check(ccurl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""), "CURLOPT_ACCEPT_ENCODING")
        }
    }

    /// The version in the User-Agent header.
    public static let version = "0.1.0"

    /// Runs the plan to the end or until `stop` is requested. After a stop, requests in flight get at most
    /// `graceSeconds`, and the rest are aborted and counted in `abortedInFlight`.
    /// - Parameter progress: called from the event loop about every 100 ms and once at the end.
    public func run(
        stop: StopFlag = StopFlag(), graceSeconds: Double = 2, progress: ((EngineProgress) -> Void)? = nil
    ) throws -> EngineOutcome {
        var loop = try EventLoopState(plan: plan, start: monotonicSeconds())
        loop.idle = transfers
        var lastProgress = 0.0

        func add(_ transfer: Transfer, index: Int, due: Double, isWarmup: Bool, isDelayed: Bool) throws {
            transfer.reset(requestIndex: index, at: monotonicSeconds())
            transfer.dueTime = due
            transfer.isWarmup = isWarmup
            transfer.isDelayed = isDelayed
            try prepareRequest(transfer, index: index)
            transfer.isActive = true
            let added = curl_multi_add_handle(multi, transfer.handle)
            guard added == CURLM_OK else {
                throw CurlError(description: "curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(added)))")
            }
            loop.inFlight += 1
        }

        func startClosedLoop(now: Double) throws {
            while loop.inFlight < transfers.count, loop.stopDeadline == nil, let isWarmup = loop.closedLoopNext(now: now), let transfer = loop.idle.popLast() {
                try add(transfer, index: loop.nextIndex, due: now, isWarmup: isWarmup, isDelayed: false)
                loop.nextIndex += 1
            }
        }

        func startOpenLoop(now: Double, maxInFlight: Int) throws {
            guard let total = loop.pacer.openTotalCount else { return }
            while loop.nextIndex < total, loop.stopDeadline == nil, loop.pacer.dueTime(loop.nextIndex) <= now {
                guard loop.inFlight < maxInFlight else {
                    loop.firstBlockedIndex = loop.firstBlockedIndex ?? loop.nextIndex
                    return
                }
                let transfer: Transfer
                if let reusable = loop.idle.popLast() {
                    transfer = reusable
                } else {
                    transfer = try makeTransfer()
                    transfers.append(transfer)
                }
                let index = loop.nextIndex
                let isDelayed = loop.firstBlockedIndex.map { index >= $0 } ?? false
                try add(transfer, index: index, due: loop.pacer.dueTime(index), isWarmup: index < loop.pacer.openWarmupCount, isDelayed: isDelayed)
                loop.nextIndex += 1
            }
            // Every request that found the bound full has been sent once the schedule is no longer behind.
            if loop.nextIndex >= total || loop.pacer.dueTime(loop.nextIndex) > now { loop.firstBlockedIndex = nil }
        }

        func startDue(now: Double) throws {
            switch plan.pacing {
            case .closed: try startClosedLoop(now: now)
            case let .open(_, maxInFlight): try startOpenLoop(now: now, maxInFlight: maxInFlight)
            }
        }

        func finish(_ transfer: Transfer, code: CURLcode, at now: Double) {
            transfer.isActive = false
            loop.inFlight -= 1
            loop.idle.append(transfer)
            guard !transfer.isWarmup else { return }
            loop.recorder.add(result(of: transfer, code: code))
            loop.lastEnd = now
            loop.measureStart = min(loop.measureStart ?? transfer.dueTime, transfer.dueTime)
        }

        try startDue(now: loop.start)
        while loop.inFlight > 0 || loop.hasMoreToSchedule {
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
                finish(transfer, code: code, at: monotonicSeconds())
            }

            let now = monotonicSeconds()
            // A stream that stopped sending mid-body is cut off here; curl's own timeout covers the whole request.
            if let stream = plan.stream {
                for transfer in transfers where transfer.isActive && transfer.lastBodyTime > 0 && now - transfer.lastBodyTime > stream.idleTimeoutSeconds {
                    curl_multi_remove_handle(multi, transfer.handle)
                    transfer.abortReason = String(format: "stream stalled: no data for %.1f s (--stream-idle-timeout)", now - transfer.lastBodyTime)
                    finish(transfer, code: CURLE_OK, at: now)
                }
            }
            if loop.stopDeadline == nil, stop.isRequested {
                loop.stopDeadline = now + graceSeconds
                loop.wasCutShort = !loop.isScheduleComplete(at: now)
            }
            if let deadline = loop.stopDeadline {
                if now >= deadline || loop.inFlight == 0 { break }
            }
            try startDue(now: now)
            if let progress, now - lastProgress >= 0.1 {
                lastProgress = now
                progress(loop.progress(total: loop.pacer.plannedRequests))
            }
            _ = curl_multi_poll(multi, nil, 0, loop.pollMilliseconds(now: now), nil)
        }

        // Requests still in flight here were cut off by the stop deadline.
        let aborted = loop.inFlight
        for transfer in transfers where transfer.isActive {
            curl_multi_remove_handle(multi, transfer.handle)
            transfer.isActive = false
        }
        if aborted > 0 { loop.lastEnd = monotonicSeconds() }
        progress?(loop.progress(total: loop.pacer.plannedRequests, inFlight: 0))
        let measureStart = loop.measureStart ?? loop.start
        return EngineOutcome(
            metrics: loop.recorder,
            wallSeconds: max(0, loop.lastEnd - measureStart),
            // A stop that came after the last request had started, and let them all finish, interrupted nothing.
            wasInterrupted: loop.stopDeadline != nil && (aborted > 0 || loop.wasCutShort),
            abortedInFlight: aborted
        )
    }

    /// Sets the body and per-request headers of request `index`.
    private func prepareRequest(_ transfer: Transfer, index: Int) throws {
        let handle = transfer.handle
        if let provider = bodyProvider {
            let body = provider(index)
            if body.isEmpty && isBodylessMethod {
                try check(ccurl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1), "CURLOPT_HTTPGET")
            } else {
                // COPYPOSTFIELDS copies the bytes, so the body array need not outlive this call.
                try check(ccurl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "CURLOPT_POSTFIELDSIZE_LARGE")
                try body.withUnsafeBufferPointer { buffer in
                    try check(ccurl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)), "CURLOPT_COPYPOSTFIELDS")
                }
            }
        } else {
            // Pre-encoded bodies: curl reads them in place, so nothing is copied or allocated per request.
            let bodyNumber = (bodyIndex?(index) ?? index) % bodyBuffers.count
            let bodyLength = bodyLengths[bodyNumber]
            if bodyLength == 0 && isBodylessMethod {
                try check(ccurl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1), "CURLOPT_HTTPGET")
            } else {
                try check(ccurl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bodyLength)), "CURLOPT_POSTFIELDSIZE_LARGE")
                try check(ccurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, bodyBuffers[bodyNumber].baseAddress), "CURLOPT_POSTFIELDS")
            }
        }
        if let name = plan.requestIDHeader {
            try setRequestID("\(name): \(plan.requestIDPrefix)-\(index)", on: transfer)
        }
    }

    /// Room for the request-id line: a header name plus an id of up to 40 characters.
    private static let requestIDLineCapacity = 200

    /// Writes the request-id header line into the transfer's own header list, whose last line is kept as a fixed-size
    /// buffer, so no list is built per request. curl reads the line when it sends the request, after this returns.
    private func setRequestID(_ line: String, on transfer: Transfer) throws {
        if transfer.requestHeaderList == nil {
            let placeholder = String(repeating: "x", count: LoadEngine.requestIDLineCapacity)
            let list = try CurlHeaderList(headerLines + [placeholder])
            transfer.requestHeaderList = list
            try check(ccurl_easy_setopt_pointer(transfer.handle, CURLOPT_HTTPHEADER, list.pointer), "CURLOPT_HTTPHEADER")
        }
        guard let last = transfer.requestHeaderList?.lastLine else { return }
        let bytes = line.utf8.prefix(LoadEngine.requestIDLineCapacity)
        var offset = 0
        for byte in bytes {
            last[offset] = CChar(bitPattern: byte)
            offset += 1
        }
        last[offset] = 0
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
        let now = monotonicSeconds()
        transfer.decoder?.finish(at: now)
        var stream: StreamTimings?
        if let decoder = transfer.decoder {
            stream = streamTimings(decoder, transfer: transfer, preTransferMilliseconds: preTransfer / 1000)
        }

        var failure: RequestFailure?
        if let reason = transfer.abortReason {
            failure = RequestFailure(kind: .stream, message: reason)
        } else if let decoder = transfer.decoder, code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR {
            // The connection broke after the stream had started: the answer was cut off mid-way.
            failure = RequestFailure(kind: .stream, message: "stream cut off after \(decoder.eventCount) events: \(transfer.errorMessage)")
        } else if let expected = expectedStatuses, code == CURLE_OK {
            if !expected.matches(status) {
                failure = status >= 400
                    ? FailureClassifier.classify(curlCode: code, status: status, curlMessage: "")
                    : RequestFailure(kind: .check, message: "status \(status) is not one of \(expected)")
            }
        } else {
            failure = FailureClassifier.classify(curlCode: code, status: status, curlMessage: code == CURLE_OK ? "" : transfer.errorMessage)
        }

        // The body is parsed only when a check needs it or the fallback field's name occurs in it, which keeps
        // the fallback and check results exact while sparing the parse for most answers.
        var document: JSONValue?
        if failure == nil, transfer.decoder == nil, !transfer.isBodyTruncated,
           needsJSONBody || transfer.body.containsSubsequence(fallbackKeyBytes),
           transfer.body.first(where: { $0 > 0x20 }) == UInt8(ascii: "{") {
            document = try? JSONValue.parse(transfer.body)
        }
        if failure == nil {
            failure = streamFailure(transfer)
        }
        if failure == nil, hasBodyOrHeaderChecks {
            let reasons = plan.checks.failedReasons(body: document, isBodyComplete: !transfer.isBodyTruncated, responseHeader: transfer.responseHeader)
            if let first = reasons.first { failure = RequestFailure(kind: .check, message: first, reasons: reasons) }
        }

        let bodyFallback = document?.value(atPointer: fallbackPointer) == .bool(true) || transfer.decoder?.isFallback == true
        let isFallback = failure == nil && (bodyFallback || transfer.hasFallbackHeader)
        // A stream cut off by the engine has no curl total; its service time ends at the cut.
        let serviceTime = max(0, transfer.abortReason != nil ? (now - transfer.startTime) * 1000 - preTransfer / 1000 : (total - preTransfer) / 1000)
        // Open loop: the wait between the due time and the actual send belongs to the latency.
        let latency = isOpenLoop ? serviceTime + max(0, transfer.startTime - transfer.dueTime) * 1000 : serviceTime
        return RequestResult(
            latency: LoadEngine.microsecondPrecision(latency),
            serviceTime: isOpenLoop ? LoadEngine.microsecondPrecision(serviceTime) : nil,
            isDelayed: transfer.isDelayed,
            status: status,
            failure: failure,
            isFallback: isFallback,
            phases: phases,
            bodyBytes: transfer.bodyBytes,
            isBodyTruncated: transfer.isBodyTruncated,
            stream: stream
        )
    }

    /// Returns the stream failure of a response that should have been a stream, or nil.
    private func streamFailure(_ transfer: Transfer) -> RequestFailure? {
        guard plan.stream != nil else { return nil }
        guard let decoder = transfer.decoder else {
            let contentType = transfer.readContentType()
            let type = contentType.isEmpty ? "none" : contentType
            return RequestFailure(kind: .stream, message: "expected a stream (text/event-stream or JSON lines), got Content-Type \(type)")
        }
        if let error = decoder.errorMessage { return RequestFailure(kind: .stream, message: error) }
        if decoder.isOpenAIStyle && !decoder.hasTerminator {
            return RequestFailure(kind: .stream, message: "stream ended without data: [DONE]")
        }
        if decoder.contentTimes.isEmpty {
            return RequestFailure(kind: .stream, message: "stream carried no content event")
        }
        return nil
    }

    /// TTFT counts from the same origin as latency: the request handed to the connection, after connection setup.
    private func streamTimings(_ decoder: StreamDecoder, transfer: Transfer, preTransferMilliseconds: Double) -> StreamTimings {
        let times = decoder.contentTimes
        let ttft = times.first.map { LoadEngine.microsecondPrecision(max(0, ($0 - transfer.startTime) * 1000 - preTransferMilliseconds)) }
        var gaps: [Double] = []
        gaps.reserveCapacity(max(0, times.count - 1))
        for index in times.indices.dropFirst() { gaps.append(LoadEngine.microsecondPrecision((times[index] - times[index - 1]) * 1000)) }
        return StreamTimings(
            timeToFirstToken: ttft,
            interTokenGaps: gaps,
            eventCount: decoder.eventCount,
            contentEventCount: times.count,
            outputTokens: decoder.reportedTokens ?? times.count,
            isTokenCountReported: decoder.reportedTokens != nil,
            contentSpan: times.count >= 2 ? (times[times.count - 1] - times[0]) * 1000 : 0
        )
    }
}

/// Seconds on the monotonic clock, which no wall-clock change moves.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

extension Array where Element == UInt8 {
    /// Returns whether `needle` occurs in the array, by a plain scan that is fast enough for bodies of a few KiB.
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count, let first = needle.first else { return needle.isEmpty }
        var index = startIndex
        let lastStart = count - needle.count
        while index <= lastStart {
            if self[index] == first, self[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
