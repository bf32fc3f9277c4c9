import Foundation
import Glibc

/// Writes report files atomically: a reader sees the old file or the whole new one, never half of it.
enum ReportFile {
    /// Fails early, before any request is sent, when the file's folder is missing or not writable.
    static func checkWritable(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError(message: "invalid value \"\(path)\" for --output: folder \(directory) does not exist", command: "run")
        }
        guard access(directory, W_OK) == 0 else {
            throw UsageError(message: "invalid value \"\(path)\" for --output: folder \(directory) is not writable", command: "run")
        }
    }

    /// Writes `text` to a temporary file beside `path`, flushes it to disk, then renames it over `path`.
    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fileError("open", temporary) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let error = fileError("write", temporary)
                close(descriptor)
                unlink(temporary)
                throw error
            }
            bytes = bytes.dropFirst(written)
        }
        guard fsync(descriptor) == 0 else {
            let error = fileError("fsync", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = fileError("rename", path)
            unlink(temporary)
            throw error
        }
    }

    private static func fileError(_ call: String, _ path: String) -> Error {
        let cause = String(cString: strerror(errno))
        return NSError(domain: "loadsmoke", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "\(call) \(path) failed: \(cause)"])
    }
}
