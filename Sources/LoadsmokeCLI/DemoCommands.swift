// Filled in when the DemoAPI module lands.
enum ServeDemoCommand {
    static func execute(_ arguments: [String], console: Console) -> Int32 { ExitCode.failure }
}
enum DemoCommand {
    static func execute(_ arguments: [String], console: Console) -> Int32 { ExitCode.failure }
}
