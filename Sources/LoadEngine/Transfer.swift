import CCurl
import Foundation

/// One worker's curl easy handle and the state of its current request. The handle is reused for every request the
/// worker sends, so connections stay in the multi handle's cache and no per-request setup is repeated.
final class Transfer {
    let handle: UnsafeMutableRawPointer
    let maxBodyBytes: Int
    /// The fallback header name in lower case, compared against each response header line.
    let fallbackHeader: [UInt8]

    var requestIndex = 0
    var body: [UInt8] = []
    var bodyBytes = 0
    var isFallbackHeader = false
    /// curl writes its error text here; it must stay allocated while the handle exists.
    let errorBuffer: UnsafeMutablePointer<CChar>

    init(maxBodyBytes: Int, fallbackHeader: String) throws {
        guard let handle = curl_easy_init() else { throw CurlError(description: "curl_easy_init failed") }
        self.handle = handle
        self.maxBodyBytes = maxBodyBytes
        self.fallbackHeader = Array(fallbackHeader.lowercased().utf8)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        body.reserveCapacity(min(maxBodyBytes, 16 * 1024))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Clears the previous response before the handle is added again.
    func reset(requestIndex: Int) {
        self.requestIndex = requestIndex
        body.removeAll(keepingCapacity: true)
        bodyBytes = 0
        isFallbackHeader = false
        errorBuffer[0] = 0
    }

    var errorMessage: String { String(cString: errorBuffer) }

    var isBodyTruncated: Bool { bodyBytes > body.count }

    /// Appends body bytes up to the in-memory limit and counts the rest.
    func receiveBody(_ data: UnsafeRawBufferPointer) {
        bodyBytes += data.count
        let room = maxBodyBytes - body.count
        if room > 0 { body.append(contentsOf: data.prefix(room)) }
    }

    /// Checks one raw header line (`Name: value\r\n`) for the fallback header.
    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        // A new status line starts a new header block (after 100 Continue), which replaces the previous one.
        if line.starts(with: "HTTP/".utf8) {
            isFallbackHeader = false
            return
        }
        guard line.count > fallbackHeader.count, line[fallbackHeader.count] == UInt8(ascii: ":") else { return }
        for (offset, expected) in fallbackHeader.enumerated() where asciiLowercase(line[offset]) != expected {
            return
        }
        let value = String(decoding: line[(fallbackHeader.count + 1)...], as: UTF8.self)
        if FallbackSignal.isTruthy(value.trimmingCharacters(in: .whitespacesAndNewlines)) { isFallbackHeader = true }
    }

    private func asciiLowercase(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
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
