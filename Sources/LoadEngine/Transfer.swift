import CCurl
import Foundation

/// One worker's curl easy handle and the state of its current request. The handle is reused for every request the
/// worker sends, so connections stay in the multi handle's cache and no per-request setup is repeated.
final class Transfer {
    let handle: UnsafeMutableRawPointer
    let maxBodyBytes: Int
    let fallbackSignal: FallbackSignal
    /// Set when responses must be streams.
    let streamFormat: StreamFormat?

    var requestIndex = 0
    var body: [UInt8] = []
    var bodyBytes = 0
    var contentType = ""
    var decoder: StreamDecoder?
    /// Monotonic seconds when the request was added to the multi handle.
    var startTime = 0.0
    /// Monotonic seconds of the last body byte; 0 before the body starts.
    var lastBodyTime = 0.0
    /// Set by the engine when it cut the transfer off, e.g. a stalled stream.
    var abortReason: String?
    var isActive = false
    /// Open loop: when the request was due (monotonic seconds); closed loop: when it started.
    var dueTime = 0.0
    /// Sent before measurement began; its result is dropped.
    var isWarmup = false
    /// Sent late because the in-flight bound was full at its due time.
    var isDelayed = false
    /// The request's header list when it carries a per-request header; curl reads it until the transfer ends.
    var requestHeaderList: CurlHeaderList?
    /// curl writes its error text here; it must stay allocated while the handle exists.
    let errorBuffer: UnsafeMutablePointer<CChar>

    init(maxBodyBytes: Int, fallbackSignal: FallbackSignal, streamFormat: StreamFormat?) throws {
        guard let handle = curl_easy_init() else { throw CurlError(description: "curl_easy_init failed") }
        self.handle = handle
        self.maxBodyBytes = maxBodyBytes
        self.fallbackSignal = fallbackSignal
        self.streamFormat = streamFormat
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        body.reserveCapacity(min(maxBodyBytes, 16 * 1024))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Clears the previous response before the handle is added again.
    func reset(requestIndex: Int, at time: Double) {
        self.requestIndex = requestIndex
        body.removeAll(keepingCapacity: true)
        bodyBytes = 0
        contentType = ""
        decoder = nil
        startTime = time
        lastBodyTime = 0
        abortReason = nil
        errorBuffer[0] = 0
    }

    var errorMessage: String { String(cString: errorBuffer) }

    /// A decoded stream keeps no body, so only a plain body can be truncated.
    var isBodyTruncated: Bool { decoder == nil && bodyBytes > body.count }

    /// Appends body bytes up to the in-memory limit and counts the rest; a stream goes to its decoder instead.
    func receiveBody(_ data: UnsafeRawBufferPointer) {
        bodyBytes += data.count
        if streamFormat != nil {
            let now = monotonicSeconds()
            lastBodyTime = now
            if decoder == nil {
                contentType = readContentType()
            }
            if decoder == nil, let framing = StreamFraming.forContentType(contentType) {
                decoder = StreamDecoder(framing: framing, format: streamFormat!, fallbackPointer: fallbackSignal.bodyPointer, maxLineBytes: maxBodyBytes)
            }
            if decoder != nil {
                decoder!.receive(data, at: now)
                return
            }
        }
        let room = maxBodyBytes - body.count
        if room > 0 { body.append(contentsOf: data.prefix(room)) }
    }

    /// The last value of response header `name` in the final response (after any 100 Continue), through curl's
    /// header API (curl 7.84 and later), so no callback runs for every header line.
    func responseHeader(_ name: String) -> String? {
        var header: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(handle, name, 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK, let first = header else {
            return nil
        }
        let amount = first.pointee.amount
        if amount > 1, curl_easy_header(handle, name, amount - 1, UInt32(CURLH_HEADER), -1, &header) != CURLHE_OK {
            return nil
        }
        guard let value = header?.pointee.value else { return nil }
        return String(cString: value).trimmingCharacters(in: .whitespaces)
    }

    /// Reads the response's Content-Type, which curl knows once the headers are in.
    func readContentType() -> String {
        var value: UnsafeMutablePointer<CChar>?
        guard ccurl_easy_getinfo_pointer(handle, CURLINFO_CONTENT_TYPE, &value) == CURLE_OK, let value else { return "" }
        return String(cString: value)
    }

    /// Whether the fallback header reports fallback.
    var hasFallbackHeader: Bool {
        responseHeader(fallbackSignal.headerName).map(fallbackSignal.headerMeansFallback) ?? false
    }
}

/// curl write callback: `userdata` is the Transfer. Returning less than size * count would abort the transfer.
let transferWriteCallback: ccurl_data_callback = { data, size, count, userdata in
    let length = size * count
    guard let data, let userdata else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length))
    return length
}
