import Glibc

/// An error from configuring, starting or streaming with `HTTPServer`.
public enum HTTPServerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The host is not an IPv4 or IPv6 literal.
    case invalidHost(String)
    /// A configuration field is out of range.
    case invalidConfiguration(field: String, value: String, expected: String)
    /// Creating, binding or listening on the socket for `address` (`host:port`) failed.
    case listenFailed(address: String, call: String, errno: Int32)
    /// `start()` was called on a server that is running or has stopped.
    case alreadyStarted
    /// A request target that is neither a path, an absolute URL nor `*`, or that has an invalid percent-encoding.
    case invalidRequestTarget(String, reason: String)
    /// A streaming body write failed because the client disconnected, the write timed out or the server is stopping.
    case streamClosed(reason: String)

    public var description: String {
        switch self {
        case let .invalidHost(host):
            return "invalid host \"\(host)\": expected an IPv4 or IPv6 literal such as 127.0.0.1 or ::1"
        case let .invalidConfiguration(field, value, expected):
            return "invalid HTTP server setting \(field)=\(value): expected \(expected)"
        case let .listenFailed(address, call, code):
            let cause = String(cString: strerror(code))
            let advice = code == EADDRINUSE
                ? "Stop the process that uses the port or choose another port."
                : "Check the host and port."
            return "cannot listen on \(address): \(call) failed: \(cause) (errno \(code)). \(advice)"
        case .alreadyStarted:
            return "the HTTP server was already started. Create a new HTTPServer to listen again."
        case let .invalidRequestTarget(target, reason):
            return "invalid request target \"\(target)\": \(reason)"
        case let .streamClosed(reason):
            return "cannot write the response body: \(reason)"
        }
    }
}
