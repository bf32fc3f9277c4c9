import Foundation

/// The `loadsmoke` command: dispatches to subcommands and returns the process exit code.
public enum Loadsmoke {
    static let version = "0.1.0"

    static let overview = """
    OVERVIEW: Smoke-test the speed of HTTP chat APIs against latency, error and fallback budgets.

    USAGE: loadsmoke <command> [options]

    COMMANDS:
      run            Send N requests at concurrency C and check the budgets (exit 1 when one fails).
      daemon         Run smoke checks on a schedule, store them and serve status, history and metrics.
      check-config   Validate a daemon configuration file.
      schedule       Print the next fire times of a cron expression or interval.
      history        List stored runs from a loadsmoke database.
      serve-demo     Serve the built-in demo chat API.
      demo           Run the demo chat API, one smoke run and a demo daemon, all on this machine.

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
        case "daemon":
            return DaemonCommand.execute(rest, console: console)
        case "check-config":
            return CheckConfigCommand.execute(rest, console: console)
        case "schedule":
            return ScheduleCommand.execute(rest, console: console)
        case "history":
            return HistoryCommand.execute(rest, console: console)
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
