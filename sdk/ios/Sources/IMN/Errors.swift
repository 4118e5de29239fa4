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
    case imageModified(String)
    case bundleMismatch(String)
    case outputExists(String)
    case wrongKey(String)
    case keyRequired(String)

    public var description: String {
        switch self {
        case .invalidImage(let m), .imageTooSmall(let m), .imageTooLarge(let m), .noFaceFound(let m),
             .alreadyProtected(let m), .notProtected(let m), .invalidMetadata(let m), .imageModified(let m), .bundleMismatch(let m),
             .outputExists(let m), .wrongKey(let m), .keyRequired(let m):
            return m
        }
    }
}
