import CCurl

/// An error from libcurl setup (not from a transfer), with curl's own message.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Initializes libcurl once per process, before any handle is made (curl_global_init is not thread-safe).
enum CurlGlobal {
    static let initResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    static func ensureInitialized() throws {
        guard initResult == CURLE_OK else {
            throw CurlError(description: "curl_global_init failed: \(String(cString: curl_easy_strerror(initResult)))")
        }
    }
}

/// Throws a CurlError naming the option when a setopt call fails.
@inline(__always)
func check(_ code: CURLcode, _ what: @autoclosure () -> String) throws {
    guard code == CURLE_OK else {
        throw CurlError(description: "curl_easy_setopt(\(what())) failed: \(String(cString: curl_easy_strerror(code)))")
    }
}

/// A curl_slist that frees itself; curl reads it during transfers, so it must outlive every handle that uses it.
final class CurlHeaderList {
    private(set) var pointer: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) throws {
        for line in lines {
            guard let appended = curl_slist_append(pointer, line) else {
                curl_slist_free_all(pointer)
                throw CurlError(description: "curl_slist_append failed: out of memory")
            }
            pointer = appended
        }
    }

    deinit { curl_slist_free_all(pointer) }

    /// The last line's text buffer, which curl_slist_append allocated with the line's length plus its terminator.
    var lastLine: UnsafeMutablePointer<CChar>? {
        var node = pointer
        while let next = node?.pointee.next { node = next }
        return node?.pointee.data
    }
}
