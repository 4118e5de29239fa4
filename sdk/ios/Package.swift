// swift-tools-version:5.9
// The IMN SDK for iOS and macOS: the photo pipeline of sdk/spec/photo.md over a bundle's Core ML
// artifacts. Written against the Kotlin SDK (sdk/android), which is compiled and tested in CI;
// this package is not compiled in this repository (no Swift toolchain there). README.md says
// how to build and test it on a Mac.
import PackageDescription

let package = Package(
    name: "IMN",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [.library(name: "IMN", targets: ["IMN"])],
    dependencies: [
        // scrypt for the keyed photos of earlier releases (CryptoKit has HKDF and HMAC, not scrypt)
        .package(url: "https://github.com/krzyzanowskim/CryptoSwift.git", from: "1.8.0"),
        // Argon2id for sealed photos' passphrases (libsodium's crypto_pwhash: one lane, version 0x13)
        .package(url: "https://github.com/jedisct1/swift-sodium.git", from: "0.9.1"),
    ],
    targets: [
        .target(name: "IMN", dependencies: ["CryptoSwift", .product(name: "Sodium", package: "swift-sodium")]),
        .testTarget(name: "IMNTests", dependencies: ["IMN"]),
    ]
)
