import Glibc

/// A failed system call, with the call's name and the errno it set.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32

    /// The C library's text for `errno`, such as "Address already in use".
    public var cause: String { String(cString: strerror(errno)) }

    public var description: String { "\(call) failed: \(cause) (errno \(errno))" }
}

/// Runs a system call that returns -1 and sets errno on failure, and retries it when a signal interrupted it (EINTR).
///
/// EBADF and EFAULT mean that the server passed a closed descriptor or a bad pointer, so they stop the process as
/// programmer errors instead of being thrown.
/// - Throws: `SystemCallError` naming `name` for every other failure.
@discardableResult
func retryingSystemCall<Result: BinaryInteger>(_ name: String, _ call: () -> Result) throws -> Result {
    while true {
        let result = call()
        if result != -1 {
            return result
        }
        let code = errno
        if code == EINTR {
            continue
        }
        precondition(code != EBADF && code != EFAULT, "\(name) failed with errno \(code): a descriptor or pointer is invalid")
        throw SystemCallError(call: name, errno: code)
    }
}

/// Closes a descriptor once. Linux releases the descriptor even when close reports EINTR, so a retry could close a
/// descriptor that another thread has just opened.
func closeDescriptor(_ descriptor: Int32) {
    _ = Glibc.close(descriptor)
}

/// Marks a descriptor close-on-exec, so that a child process started with fork and exec does not inherit it.
/// Glibc's accept4 and pipe2, which set the flag atomically, are GNU extensions that Swift does not import.
func setCloseOnExec(_ descriptor: Int32) {
    _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
}

/// Sets an integer socket option such as SO_REUSEADDR or TCP_NODELAY.
func setSocketOption(_ descriptor: Int32, level: Int32, option: Int32, value: Int32, name: String) throws {
    var value = value
    try retryingSystemCall("setsockopt(\(name))") {
        setsockopt(descriptor, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// Sets SO_SNDTIMEO, so that a send to a client that stopped reading fails with EAGAIN after `timeout`.
func setSendTimeout(_ descriptor: Int32, timeout: Duration) throws {
    let milliseconds = timeout.wholeMilliseconds
    var value = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    try retryingSystemCall("setsockopt(SO_SNDTIMEO)") {
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// Sends all of `bytes`, looping over partial sends. MSG_NOSIGNAL turns a send to a closed peer into EPIPE instead of
/// a SIGPIPE that would end the process.
func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let sent = try bytes.withUnsafeBytes { buffer in
            try retryingSystemCall("send") {
                send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
        }
        offset += sent
    }
}

extension Duration {
    /// The duration rounded down to whole milliseconds, never negative.
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int(max(0, min(total, Int64(Int32.max))))
    }
}
