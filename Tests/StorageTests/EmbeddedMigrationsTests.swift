import Foundation
import XCTest
@testable import Storage

final class EmbeddedMigrationsTests: XCTestCase {
    /// The package root, two folders above this file (Tests/StorageTests/).
    private let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testEmbeddedCopyMatchesFiles() throws {
        let folder = packageRoot.appendingPathComponent("Migrations")
        let fileNames = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        let onDisk = try fileNames.map { fileName -> Migration in
            let base = String(fileName.dropLast(".sql".count))
            let parts = base.split(separator: "_", maxSplits: 1)
            let version = try XCTUnwrap(Int(parts[0]), "file \(fileName) does not start with a version number")
            let sql = try String(contentsOf: folder.appendingPathComponent(fileName), encoding: .utf8)
            return Migration(version: version, name: String(parts[1]), sql: sql)
        }

        XCTAssertFalse(onDisk.isEmpty, "no .sql files found in \(folder.path)")
        XCTAssertEqual(Migration.embedded.map(\.version), onDisk.map(\.version),
                       "run Migrations/embed.sh to update EmbeddedMigrations.swift")
        XCTAssertEqual(Migration.embedded.map(\.name), onDisk.map(\.name),
                       "run Migrations/embed.sh to update EmbeddedMigrations.swift")
        for (embedded, file) in zip(Migration.embedded, onDisk) {
            XCTAssertEqual(embedded.sql, file.sql,
                           "migration \(file.version) differs; run Migrations/embed.sh to update EmbeddedMigrations.swift")
        }
    }

    func testVersionsCountUpFromOne() {
        let versions = Migration.embedded.map(\.version)

        XCTAssertEqual(versions, Array(1...versions.count))
    }
}
