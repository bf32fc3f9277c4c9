// swift-tools-version:6.0
// The targets are the architecture: C shims at the bottom, then one module per job.
import PackageDescription

let package = Package(
    name: "loadsmoke",
    products: [
        .executable(name: "loadsmoke", targets: ["loadsmoke"]),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CYAML", providers: [.apt(["libyaml-dev"])]),

        // Building blocks.
        .target(name: "JSONCoding"),
        .target(name: "HTTPServer"),
        .target(name: "Measurement"),
        .target(name: "LoadEngine", dependencies: ["CCurl", "Measurement", "JSONCoding"]),
        .target(name: "Reporting", dependencies: ["Measurement", "JSONCoding"]),
        .target(name: "SmokeRunner", dependencies: ["LoadEngine", "Measurement", "Reporting", "JSONCoding"]),
        .target(name: "DemoAPI", dependencies: ["HTTPServer", "JSONCoding"]),

        // Daemon parts.
        .target(name: "Scheduling"),
        .target(name: "Configuration", dependencies: ["CYAML", "Scheduling", "SmokeRunner"]),
        // Migrations/*.sql are compiled in (EmbeddedMigrations.swift) so a copied binary needs no resource bundle.
        .target(name: "Storage", dependencies: ["CSQLite", "JSONCoding", "Measurement"]),
        .target(
            name: "Daemon",
            dependencies: ["Configuration", "Storage", "Scheduling", "SmokeRunner", "HTTPServer", "JSONCoding"]
        ),

        // Front end.
        .target(
            name: "LoadsmokeCLI",
            dependencies: ["SmokeRunner", "DemoAPI", "Daemon", "Scheduling", "Configuration", "Storage"]
        ),
        .executableTarget(name: "loadsmoke", dependencies: ["LoadsmokeCLI"]),

        .testTarget(name: "JSONCodingTests", dependencies: ["JSONCoding"]),
        .testTarget(name: "MeasurementTests", dependencies: ["Measurement"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Measurement", "JSONCoding"]),
        .testTarget(
            name: "LoadEngineTests",
            dependencies: ["LoadEngine", "SmokeRunner", "Measurement", "Reporting", "CCurl", "JSONCoding"]
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["Daemon", "Storage", "Configuration", "Scheduling", "SmokeRunner", "HTTPServer", "JSONCoding", "DemoAPI", "loadsmoke"]
        ),
        .testTarget(name: "LoadsmokeCLITests", dependencies: ["LoadsmokeCLI", "loadsmoke", "DemoAPI", "HTTPServer", "JSONCoding"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"]),
        .testTarget(name: "DemoAPITests", dependencies: ["DemoAPI", "HTTPServer", "JSONCoding"]),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "Scheduling", "SmokeRunner", "Reporting"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "CSQLite", "JSONCoding", "Measurement"]),
    ],
    swiftLanguageModes: [.v5]
)
