/// Delay added to each fire time so that targets sharing a schedule do not all start in the same second.
///
/// `offset(forKey:)` derives the delay from a key such as the target name. It is the same on every run, machine
/// and Swift version, because it hashes the key's UTF-8 bytes with 64-bit FNV-1a and the MurmurHash3 `fmix64`
/// finalizer rather than with `Hasher`, which is seeded per process. A target therefore keeps one fixed delay for
/// all its fire times. `offset(using:)` draws a
/// new delay instead, for callers who want one per fire time.
///
/// Keep the maximum shorter than the schedule's period: a delay past the next fire time would let runs overlap.
public struct Jitter: Sendable, Equatable {
    /// Exclusive upper bound of the delay in seconds, where 0 means no delay.
    public let maximumSeconds: Double

    /// - Throws: `ScheduleError` when `maximumSeconds` is negative, infinite or not a number.
    public init(maximumSeconds: Double) throws {
        guard maximumSeconds.isFinite, maximumSeconds >= 0 else {
            throw ScheduleError("invalid jitter \(maximumSeconds): must be a duration of 0 seconds or more")
        }
        self.maximumSeconds = maximumSeconds
    }

    /// Returns a delay in seconds in `[0, maximumSeconds)`, the same for every call with the same key.
    public func offset(forKey key: String) -> Double {
        Self.scaledUnitInterval(Self.finalizerMix(Self.stableHash(of: key))) * maximumSeconds
    }

    /// Returns a delay in seconds in `[0, maximumSeconds)` drawn from `generator`.
    public func offset<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Double {
        Self.scaledUnitInterval(generator.next()) * maximumSeconds
    }

    /// Hashes the UTF-8 bytes of `key` with 64-bit FNV-1a, whose constants are fixed by its specification.
    public static func stableHash(of key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Spreads every input bit over the high bits with MurmurHash3's `fmix64`. FNV-1a alone leaves the high bits
    /// nearly equal for keys that differ only in their last character, such as `api-1` and `api-2`.
    private static func finalizerMix(_ hash: UInt64) -> UInt64 {
        var mixed = hash
        mixed ^= mixed >> 33
        mixed &*= 0xff51_afd7_ed55_8ccd
        mixed ^= mixed >> 33
        mixed &*= 0xc4ce_b9fe_1a85_ec53
        mixed ^= mixed >> 33
        return mixed
    }

    /// Maps 64 random bits to `[0, 1)`. Only the top 53 bits are used because a Double has a 53-bit significand,
    /// and more bits would let the result round up to 1.
    private static func scaledUnitInterval(_ bits: UInt64) -> Double {
        Double(bits >> 11) / Double(UInt64(1) << 53)
    }
}
