import Foundation
import Sodium

/// Argon2id through libsodium's `crypto_pwhash` (swift-sodium; CryptoKit has no Argon2), in a
/// file of its own so that Sodium's `Box` type stays out of the files that use the SDK's `Box`.
enum Argon2 {
    /// Argon2id, version 0x13, of `password` (photo.md §7.1). libsodium computes one lane only: a
    /// record asking for more (the reader allows up to 8, as the Python and Kotlin SDKs do) is
    /// refused rather than derived wrongly; every SDK's protect writes one.
    static func derive(_ password: [UInt8], salt: [UInt8], params: Argon2Params, length: Int) throws -> [UInt8] {
        guard params.lanes == 1 else {
            throw IMNError.invalidMetadata("imn metadata: this photo's Argon2id uses \(params.lanes) lanes; this SDK derives with 1 " +
                                           "(libsodium), as every SDK's protect writes")
        }
        // crypto_pwhash: opslimit = passes, memlimit in bytes (it runs memlimit / 1024 KiB).
        guard let out = Sodium().pwHash.hash(outputLength: length, passwd: password, salt: salt, opsLimit: params.iterations,
                                             memLimit: params.memoryKib * 1024, alg: .Argon2ID13) else {
            throw IMNError.invalidMetadata("imn metadata: Argon2id could not run with this photo's parameters (out of memory?)")
        }
        return out
    }
}
