package org.imn.sdk

/** Every failure a gallery app must show a user, one class each (sdk/python/imn_sdk/errors.py).
 *  The message is written for the person using the app. */
open class ImnException(message: String) : Exception(message)

/** Not an image, truncated, or a pixel format IMN cannot keep bit-exact. */
class InvalidImage(message: String) : ImnException(message)

/** Smaller than one hiding tile. */
class ImageTooSmall(message: String) : ImnException(message)

/** More pixels than the stated limit. */
class ImageTooLarge(message: String) : ImnException(message)

/** Nothing to protect (or every face was too small). */
class NoFaceFound(message: String) : ImnException(message)

/** The photo already carries an IMN record: protecting it again would lose the first one. */
class AlreadyProtected(message: String) : ImnException(message)

/** No IMN metadata: never protected, or the metadata was stripped. */
class NotProtected(message: String) : ImnException(message)

/** The imn chunk is present but malformed. */
class InvalidMetadata(message: String) : ImnException(message)

/** The masked pixels no longer match the digest taken when they were written, or a sealed
 *  photo's record or `imSd` chunk was altered or lost. */
class ImageModified(message: String) : ImnException(message)

/** The bundle cannot reveal what another bundle hid. */
class BundleMismatch(message: String) : ImnException(message)

/** Refusing to write over an existing file without overwrite. */
class OutputExists(message: String) : ImnException(message)

/** The key does not open this photo (checked against the stored check value before anything is
 *  decrypted or revealed). */
class WrongKey(message: String) : ImnException(message)

/** A sealed or keyed photo opened without a key, a protect that chose neither sealed nor keyless,
 *  or a key file that cannot be read. */
class KeyRequired(message: String) : ImnException(message)

/** A passphrase too short or too simple to seal photos with (sdk/spec/photo.md §7.1). */
class WeakPassphrase(message: String) : ImnException(message)
