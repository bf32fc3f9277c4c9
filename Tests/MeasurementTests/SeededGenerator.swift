import Foundation

/// SplitMix64: a small deterministic generator, so random test data is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Latency test data shared by the histogram tests.
enum TestLatencies {
    /// Log-uniform values from 1 µs to 1 hour, in milliseconds, rounded to whole microseconds as curl's timers are.
    static func wholeMicroseconds(count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        let upperExponent = log10(3_600_000_000.0)
        return (0..<count).map { _ in
            let microseconds = pow(10, Double.random(in: 0...upperExponent, using: &generator)).rounded()
            return microseconds / 1000
        }
    }

    /// Log-uniform values from 1 µs to 1 hour, in milliseconds, with fractional microseconds.
    static func fractionalMicroseconds(count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        let upperExponent = log10(3_600_000_000.0)
        return (0..<count).map { _ in pow(10, Double.random(in: 0...upperExponent, using: &generator)) / 1000 }
    }

    /// Percentiles checked against exact nearest-rank values: every whole percent and the tails.
    static let percents: [Double] = [0.001, 0.1, 0.5] + (1...100).map(Double.init) + [99.5, 99.9, 99.99, 99.999]
}
