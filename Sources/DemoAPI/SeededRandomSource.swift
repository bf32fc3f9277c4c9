import Foundation

/// SplitMix64, with the constants of Sebastiano Vigna's public-domain reference splitmix64.c: a small generator
/// whose whole state is one 64-bit counter, so a seed fixes the sequence on every platform.
struct SplitMix64 {
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

    /// Returns a uniform number in [0, 1) built from the top 53 bits, the precision of a Double.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}

/// The random numbers that decide one chat request, drawn together in a fixed order so that a seeded sequence
/// does not depend on which branch each request takes.
struct ChatDraws {
    /// A uniform number in [0, 1). The request fails when it is below the error rate.
    var errorRoll: Double
    /// A uniform number in [0, 1). The primary backend fails when it is below the fallback rate.
    var fallbackRoll: Double
    /// A standard normal deviate for the log-normal latency.
    var latencyDeviate: Double
    /// A uniform number in [0, 1) that sets the fallback path's extra latency between 30 % and 50 %.
    var fallbackSlowdownRoll: Double
    /// A uniform number in [0, 1) that sets how many sources the answer cites, from 2 to 4.
    var sourceCountRoll: Double
    /// Uniform numbers in [0, 1), one per knowledge-base document, that vary the retrieval scores.
    var scoreJitters: [Double]
}

/// A SplitMix64 generator shared by the handler threads behind a lock.
final class SeededRandomSource: @unchecked Sendable {
    private let lock = NSLock()
    private var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    func drawChat(documentCount: Int) -> ChatDraws {
        lock.withLock {
            let errorRoll = generator.nextUnit()
            let fallbackRoll = generator.nextUnit()
            // Box-Muller transform. Taking 1 - u keeps the logarithm's argument in (0, 1].
            let radius = (-2 * log(1 - generator.nextUnit())).squareRoot()
            let latencyDeviate = radius * cos(2 * Double.pi * generator.nextUnit())
            let fallbackSlowdownRoll = generator.nextUnit()
            let sourceCountRoll = generator.nextUnit()
            let scoreJitters = (0..<documentCount).map { _ in generator.nextUnit() }
            return ChatDraws(
                errorRoll: errorRoll,
                fallbackRoll: fallbackRoll,
                latencyDeviate: latencyDeviate,
                fallbackSlowdownRoll: fallbackSlowdownRoll,
                sourceCountRoll: sourceCountRoll,
                scoreJitters: scoreJitters
            )
        }
    }
}
