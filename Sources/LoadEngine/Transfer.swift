import CCurl
import Foundation

/// One worker's curl easy handle and the state of its current request. The handle is reused for every request the
/// worker sends, so connections stay in the multi handle's cache and no per-request setup is repeated.
final class Transfer {
    let handle: UnsafeMutableRawPointer
    let maxBodyBytes: Int
    let fallbackSignal: FallbackSignal
    /// The fallback header name in lower case, compared against each response header line.
    let fallbackHeader: [UInt8]
    /// Keep every response header, for header checks.
    let keepsHeaders: Bool
    /// Set when responses must be streams.
    let streamFormat: StreamFormat?

    var requestIndex = 0
    var body: [UInt8] = []
    var bodyBytes = 0
    var isFallbackHeader = false
    var contentType = ""
    /// Response headers with lower-case names, kept only when `keepsHeaders`.
    var headers: [(name: String, value: String)] = []
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

    init(maxBodyBytes: Int, fallbackSignal: FallbackSignal, keepsHeaders: Bool, streamFormat: StreamFormat?) throws {
        guard let handle = curl_easy_init() else { throw CurlError(description: "curl_easy_init failed") }
        self.handle = handle
        self.maxBodyBytes = maxBodyBytes
        self.fallbackSignal = fallbackSignal
        fallbackHeader = Array(fallbackSignal.headerName.lowercased().utf8)
        self.keepsHeaders = keepsHeaders
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
        isFallbackHeader = false
        contentType = ""
        headers.removeAll(keepingCapacity: true)
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

    /// Reads one raw header line (`Name: value\r\n`): the fallback header, Content-Type and, when kept, every header.
    /// Names are compared as bytes, so a header nobody asked for costs no String; this runs for every header line of
    /// every response.
    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        // A new status line starts a new header block (after 100 Continue), which replaces the previous one.
        if line.starts(with: "HTTP/".utf8) {
            isFallbackHeader = false
            contentType = ""
            headers.removeAll(keepingCapacity: true)
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
        let isFallbackName = Transfer.equalsIgnoringCase(name, fallbackHeader)
        let isContentType = streamFormat != nil && Transfer.equalsIgnoringCase(name, Transfer.contentTypeName)
        guard isFallbackName || isContentType || keepsHeaders else { return }

        let value = Transfer.trimmedText(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        if isFallbackName, fallbackSignal.headerMeansFallback(value) { isFallbackHeader = true }
        if isContentType { contentType = value }
        if keepsHeaders { headers.append((name: String(decoding: name, as: UTF8.self).lowercased(), value: value)) }
    }

    private static let contentTypeName = Array("content-type".utf8)

    /// Compares ASCII bytes with a lower-case name, ignoring the case of `bytes`.
    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercaseName: [UInt8]) -> Bool {
        guard bytes.count == lowercaseName.count else { return false }
        for (byte, expected) in zip(bytes, lowercaseName) {
            let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
            if lower != expected { return false }
        }
        return true
    }

    /// The bytes as text without leading and trailing spaces, tabs, CR and LF.
    private static func trimmedText(_ bytes: UnsafeRawBufferPointer) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[first...last]), as: UTF8.self)
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

/// curl header callback: called once per header line, status line included.
let transferHeaderCallback: ccurl_data_callback = { data, size, count, userdata in
    let length = size * count
    guard let data, let userdata else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}
