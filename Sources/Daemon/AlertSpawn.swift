import Foundation
import Glibc

/// Reason an alert command could not be started, as a message for `AlertCommandResult.launchError`.
struct AlertLaunchFailure: Error {
    let message: String

    /// Failure of a C call that reports `code` as an errno value.
    init(call: String, code: Int32, hint: String? = nil) {
        var message = "\(call) failed: \(String(cString: strerror(code)))"
        if let hint {
            message += ". \(hint)"
        }
        self.message = message
    }
}

/// Running alert command together with the parent's ends of its pipes, which are non-blocking and close-on-exec.
struct SpawnedAlertProcess {
    let pid: pid_t
    /// Write end of the command's stdin pipe.
    let stdinWriteEnd: Int32
    /// Read end of the pipe that receives both stdout and stderr.
    let outputReadEnd: Int32

    /// Starts `command` in a new process group with stdin from a pipe, stdout and stderr into one other pipe, an empty
    /// signal mask, default signal dispositions and descriptors above 2 closed.
    static func launch(command: [String], environment: [String]) throws(AlertLaunchFailure) -> SpawnedAlertProcess {
        let stdinPipe = try openPipe()
        let outputPipe: (readEnd: Int32, writeEnd: Int32)
        do {
            outputPipe = try openPipe()
        } catch {
            close(stdinPipe.readEnd)
            close(stdinPipe.writeEnd)
            throw error
        }

        let pid: pid_t
        do {
            pid = try spawn(command: command, environment: environment, stdin: stdinPipe.readEnd, output: outputPipe.writeEnd)
        } catch {
            for descriptor in [stdinPipe.readEnd, stdinPipe.writeEnd, outputPipe.readEnd, outputPipe.writeEnd] {
                close(descriptor)
            }
            throw error
        }

        // Only the child keeps these ends, so the parent reads end-of-file on output once the child's side closes.
        close(stdinPipe.readEnd)
        close(outputPipe.writeEnd)
        setNonBlocking(stdinPipe.writeEnd)
        setNonBlocking(outputPipe.readEnd)
        return SpawnedAlertProcess(pid: pid, stdinWriteEnd: stdinPipe.writeEnd, outputReadEnd: outputPipe.readEnd)
    }

    private static func spawn(
        command: [String],
        environment: [String],
        stdin: Int32,
        output: Int32
    ) throws(AlertLaunchFailure) -> pid_t {
        let fileActions = UnsafeMutablePointer<posix_spawn_file_actions_t>.allocate(capacity: 1)
        defer { fileActions.deallocate() }
        try check(posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init")
        defer { posix_spawn_file_actions_destroy(fileActions) }

        // dup2 clears close-on-exec on the new descriptor, so 0, 1 and 2 survive the exec and the originals do not.
        try check(posix_spawn_file_actions_adddup2(fileActions, stdin, 0), "posix_spawn_file_actions_adddup2")
        try check(posix_spawn_file_actions_adddup2(fileActions, output, 1), "posix_spawn_file_actions_adddup2")
        try check(posix_spawn_file_actions_adddup2(fileActions, output, 2), "posix_spawn_file_actions_adddup2")
        if let addCloseFrom = GNUFunctions.addCloseFrom {
            // Descriptors that other code in the daemon opened without close-on-exec must not leak into the command.
            try check(addCloseFrom(fileActions, 3), "posix_spawn_file_actions_addclosefrom_np")
        }
        // NOTE: Without posix_spawn_file_actions_addclosefrom_np (glibc before 2.34), only close-on-exec keeps other
        // descriptors of the daemon out of the command.

        let attributes = UnsafeMutablePointer<posix_spawnattr_t>.allocate(capacity: 1)
        defer { attributes.deallocate() }
        try check(posix_spawnattr_init(attributes), "posix_spawnattr_init")
        defer { posix_spawnattr_destroy(attributes) }

        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        try check(posix_spawnattr_setflags(attributes, Int16(flags)), "posix_spawnattr_setflags")
        // Process group 0 makes the child the leader of a new group whose id is its pid, so killpg reaches its children.
        try check(posix_spawnattr_setpgroup(attributes, 0), "posix_spawnattr_setpgroup")
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        try check(posix_spawnattr_setsigmask(attributes, &emptySet), "posix_spawnattr_setsigmask")
        // The daemon ignores SIGPIPE, and exec keeps ignored dispositions, so every signal is reset to its default.
        // NOTE: glibc 2.36 leaves its internal signals 32 and 33 ignored in the child anyway, and sigfillset omits them.
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        try check(posix_spawnattr_setsigdefault(attributes, &allSignals), "posix_spawnattr_setsigdefault")

        let arguments = CStringArray(command)
        let variables = CStringArray(environment)
        let program = command[0]
        let searchesPath = !program.contains("/")
        let callName = searchesPath ? "posix_spawnp" : "posix_spawn"

        var pid: pid_t = 0
        // glibc returns exec failures (missing file, no permission) as this result, not through a failed child.
        let code = withExtendedLifetime((arguments, variables)) {
            if searchesPath {
                return posix_spawnp(&pid, program, fileActions, attributes, arguments.pointers, variables.pointers)
            }
            return posix_spawn(&pid, program, fileActions, attributes, arguments.pointers, variables.pointers)
        }
        guard code == 0 else {
            let hint = searchesPath
                ? "Check that the alert command's first element names an executable file in PATH, or use an absolute path."
                : "Check that the alert command's first element names an executable file."
            throw AlertLaunchFailure(call: "\(callName) \(program)", code: code, hint: hint)
        }
        return pid
    }

    private static func check(_ code: Int32, _ call: String) throws(AlertLaunchFailure) {
        guard code == 0 else { throw AlertLaunchFailure(call: call, code: code) }
    }

    /// Opens a pipe whose ends are close-on-exec from creation, so a process spawned by another thread in the meantime
    /// never inherits them.
    private static func openPipe() throws(AlertLaunchFailure) -> (readEnd: Int32, writeEnd: Int32) {
        guard let pipe2 = GNUFunctions.pipe2 else { throw AlertLaunchFailure(call: "dlsym pipe2", code: ENOSYS) }
        var descriptors: [Int32] = [-1, -1]
        guard pipe2(&descriptors, O_CLOEXEC) == 0 else { throw AlertLaunchFailure(call: "pipe2", code: errno) }
        return (descriptors[0], descriptors[1])
    }

    private static func setNonBlocking(_ descriptor: Int32) {
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
    }
}

/// NUL-terminated array of C strings that lives as long as this object, for argv and envp.
private final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() {
            pointers[index] = strdup(string)
        }
        pointers[strings.count] = nil
    }

    deinit {
        for index in 0..<count {
            free(pointers[index])
        }
        pointers.deallocate()
    }
}

/// glibc functions that Swift's Glibc module does not import, because glibc declares them only under `_GNU_SOURCE`.
/// Each is nil when the running C library lacks it.
private enum GNUFunctions {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `pipe2(2)`, in glibc since 2.9.
    static let pipe2: Pipe2? = lookUp("pipe2", as: Pipe2.self)
    /// `posix_spawn_file_actions_addclosefrom_np(3)`, in glibc since 2.34.
    static let addCloseFrom: AddCloseFrom? = lookUp("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self)

    private static func lookUp<Function>(_ name: String, as type: Function.Type) -> Function? {
        // dlopen(NULL) returns the global symbol scope, which includes libc.
        guard let scope = dlopen(nil, RTLD_NOW), let symbol = dlsym(scope, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }
}
