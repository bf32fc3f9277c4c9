import Foundation

/// The `loadsmoke` command: dispatches to subcommands and returns the process exit code.
public enum Loadsmoke {
    static let version = "0.1.0"

    static let overview = """
    OVERVIEW: Smoke-test the speed of HTTP chat APIs against latency, error and fallback budgets.

    USAGE: loadsmoke <command> [options]

    COMMANDS:
      run          Send N requests at concurrency C and check the budgets (exit 1 when one fails).
      serve-demo   Serve the built-in demo chat API.
      demo         Start the demo chat API in-process and run a smoke run against it.

    Run 'loadsmoke <command> --help' for a command's options. 'loadsmoke --version' prints the version.

    """

    public static func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Int32 {
        let console = Console()
        guard let command = arguments.first else {
            console.out(overview)
            return ExitCode.usage
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "run":
            return RunCommand.execute(rest, console: console)
        case "serve-demo":
            return ServeDemoCommand.execute(rest, console: console)
        case "demo":
            return DemoCommand.execute(rest, console: console)
        case "-h", "--help", "help":
            console.out(overview)
            return ExitCode.success
        case "--version", "version":
            console.out("loadsmoke \(version)\n")
            return ExitCode.success
        default:
            console.error(UsageError(message: "unknown command '\(command)'", command: nil).description)
            return ExitCode.usage
        }
    }
}
