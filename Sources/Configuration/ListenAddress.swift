import Glibc

/// Parsing of `server.listen` values: `HOST:PORT` or `[IPV6]:PORT`.
enum ListenAddress {
    static let example = "127.0.0.1:9790 or [::1]:9790"

    /// Splits `text` into a host (IPv6 without brackets) and a port from 0 to 65535; port 0 picks a free port, which the
    /// daemon logs at start-up.
    ///
    /// - Throws: `ListenAddressError` when the host or port is missing, an IPv6 address lacks brackets, the host is
    ///   not an IP address or host name, or the port is not a whole number in range. An empty host (`:9790`) is
    ///   rejected so that the listening address is always written out.
    static func parse(_ text: String) throws -> (host: String, port: Int) {
        let host: String
        let portText: String
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ListenAddressError("missing \"]\" after the IPv6 address; use \(example)")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ListenAddressError("missing \":PORT\" after \"]\"; use \(example)")
            }
            portText = String(rest.dropFirst())
            guard isIPv6(host) else {
                throw ListenAddressError("\"\(host)\" is not an IPv6 address; use \(example)")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ListenAddressError("missing \":PORT\"; use \(example)")
            }
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
            guard !host.contains(":") else {
                throw ListenAddressError("an IPv6 address needs brackets, such as [::1]:9790")
            }
            guard !host.isEmpty else {
                throw ListenAddressError("missing host before \":\(portText)\"; write it out, such as 127.0.0.1:\(portText) for loopback only or 0.0.0.0:\(portText) for every interface")
            }
            guard isIPv4(host) || isHostName(host) else {
                throw ListenAddressError("\"\(host)\" is not an IP address or host name; use \(example)")
            }
        }

        guard !portText.isEmpty, portText.allSatisfy(\.isASCIIDigit), portText.count <= 5,
              let port = Int(portText), (0...65_535).contains(port)
        else {
            throw ListenAddressError("invalid port \"\(portText)\"; expected a whole number from 0 to 65535")
        }
        return (host, port)
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        return isIPv4(host) && host.hasPrefix("127.")
    }

    private static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    private static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// Checks for an RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, each 1 to 63
    /// characters. Names of digits and dots only are rejected, so a mistyped IPv4 address such as 300.1.1.1 is caught.
    private static func isHostName(_ text: String) -> Bool {
        guard text.utf8.count <= 253, !text.allSatisfy({ $0.isASCIIDigit || $0 == "." }) else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count)
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                && label.first != "-" && label.last != "-"
        }
    }
}

struct ListenAddressError: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
