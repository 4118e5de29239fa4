/// Every failure a gallery app must show a user, one case each (sdk/python/imn_sdk/errors.py);
/// the message is written for the person using the app.
public enum IMNError: Error, Equatable, CustomStringConvertible {
    case invalidImage(String)
    case imageTooSmall(String)
    case imageTooLarge(String)
    case noFaceFound(String)
    /// The photo already carries an IMN record: protecting it again would lose the first one.
    case alreadyProtected(String)
    case notProtected(String)
    case invalidMetadata(String)
    /// The masked pixels changed since protection, or a sealed photo's record or `imSd` chunk was
    /// altered or lost.
    case imageModified(String)
    case bundleMismatch(String)
    case outputExists(String)
    /// The key does not open this photo (checked against the stored check value before anything
    /// is decrypted or revealed).
    case wrongKey(String)
    /// A sealed or keyed photo opened without a key, a protect that chose neither sealed nor
    /// keyless, or a key file that cannot be read.
    case keyRequired(String)
    /// A passphrase too short or too simple to seal photos with (photo.md §7.1).
    case weakPassphrase(String)
    /// A call the SDK cannot honour as asked: sealed and keyless at once, an unknown seal
    /// quality, a keyless photo recovered without a bundle (Kotlin: IllegalArgumentException).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidImage(let m), .imageTooSmall(let m), .imageTooLarge(let m), .noFaceFound(let m),
             .alreadyProtected(let m), .notProtected(let m), .invalidMetadata(let m), .imageModified(let m), .bundleMismatch(let m),
             .outputExists(let m), .wrongKey(let m), .keyRequired(let m), .weakPassphrase(let m), .invalidArgument(let m):
            return m
        }
    }
}
