// swift-tools-version:6.1
import PackageDescription

/// One set of compiler settings for every target: Swift 6 language mode (strict concurrency)
/// plus the upcoming features that keep the module graph honest.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "wharf",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wharfd", targets: ["wharfd"]),
        .executable(name: "wharf-launch", targets: ["wharf-launch"]),
        .executable(name: "wharf-bench", targets: ["WharfBench"]),
        .executable(name: "wharf-store-bench", targets: ["WharfStoreBench"]),
        .executable(name: "wharf-plugin-bench", targets: ["WharfPluginBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Tests only: PlainScalarTests and YAMLComposerAgreementTests compare Wharf's YAML reading with it.
        // Yams compiles its own copy of libyaml into the test binary, and the linker prefers it to
        // Debian's: the unit tests run on that copy, wharfd and the end-to-end tests on Debian's.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // No traits: the admin server uses HummingbirdCore only, and the default traits would link
        // swift-configuration (and its regular expressions) into wharfd for nothing.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // 4.x imports FoundationEssentials only; 3.x imported Foundation (and with it ICU).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // MARK: Pure modules (no sockets, threads or files)
        .target(
            name: "WharfCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MQTTCodec",
            dependencies: ["WharfCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WharfConfig",
            dependencies: ["WharfCore", "CLibYAML"],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "WharfAuth",
            dependencies: [
                "WharfCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // The plugin protocol (docs/plugins.md): line framing, the JSON codec, credit; pure.
        .target(
            name: "PluginProtocol",
            dependencies: ["WharfCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),

        // Remote configuration's apply / confirm / roll back lifecycle, its on-disk record and its
        // reported state (docs/remote-config.md); pure.
        .target(
            name: "RemoteConfigState",
            dependencies: ["WharfCore"],
            swiftSettings: swiftSettings
        ),

        // Remote configuration (docs/remote-config.md): the signed document, its canonical JSON,
        // Ed25519 keys, the version rule, the section policy, the overlay; pure.
        .target(
            name: "RemoteConfig",
            dependencies: [
                "WharfCore",
                "WharfConfig",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // Remote configuration on disk and at start: the staged documents and the record, the
        // trusted-keys directory, the running configuration and what a new one changes.
        .target(
            name: "RemoteConfigHost",
            dependencies: [
                "RemoteConfig",
                "RemoteConfigState",
                "WharfConfig",
                "WharfCore",
                "WharfSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: C libraries from Debian
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CModbus",
            path: "Sources/CModbus",
            pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"])]
        ),
        // libyaml's parser reads wharf.yaml; WharfConfig composes its events (YAML/).
        .systemLibrary(
            name: "CLibYAML",
            path: "Sources/CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // libcoap's headers only: wharfd is not linked with libcoap. CCoAPLoader loads it when a
        // CoAP adapter starts (libcoap3-dev for the headers, libcoap3 at run time).
        .systemLibrary(
            name: "CCoAP",
            path: "Sources/CCoAP",
            providers: [.apt(["libcoap3-dev"])]
        ),
        .target(
            name: "CCoAPLoader",
            path: "Sources/CCoAPLoader"
        ),

        // MARK: Services
        .target(
            name: "Store",
            dependencies: [
                "CSQLite",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Uplink",
            dependencies: [
                "WharfCore",
                "MQTTCodec",
                "AdapterKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AdapterKit",
            dependencies: [
                "WharfCore",
                "WharfConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Broker",
            dependencies: [
                "WharfAuth",
                "WharfCore",
                "MQTTCodec",
                "WharfConfig",
                "AdapterKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "WharfGateway",
            dependencies: [
                "Broker",
                "Store",
                "Uplink",
                "AdapterKit",
                "MQTTCodec",
                "WharfConfig",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Protocol adapters (each the only importer of its C library)
        .target(
            name: "WharfModbus",
            dependencies: [
                "CModbus",
                "AdapterKit",
                "WharfConfig",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Adapters/Modbus",
            swiftSettings: swiftSettings
        ),

        .target(
            name: "WharfCoAP",
            dependencies: [
                "CCoAP",
                "CCoAPLoader",
                "AdapterKit",
                "WharfConfig",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Adapters/CoAP",
            swiftSettings: swiftSettings
        ),

        .target(
            name: "WharfPlugins",
            dependencies: [
                "AdapterKit",
                "PluginProtocol",
                "WharfConfig",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Adapters/Plugin",
            swiftSettings: swiftSettings
        ),

        // MARK: Operations (admin HTTP API, metrics)
        .target(
            name: "AdminAPI",
            dependencies: [
                "AdapterKit",
                "WharfCore",
                "WharfConfig",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "WharfChecks",
            dependencies: [
                "AdapterKit",
                "Broker",
                "WharfAuth",
                "WharfCoAP",
                "WharfConfig",
                "WharfCore",
                "WharfModbus",
                "WharfPlugins",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "WharfSupport",
            dependencies: ["WharfConfig", "WharfCore", "CImagePages"],
            swiftSettings: swiftSettings
        ),
        // Gives back the pages of wharfd's code that start-up filled (ImagePages.swift).
        .target(
            name: "CImagePages",
            path: "Sources/CImagePages"
        ),

        // MARK: Executables
        .executableTarget(
            name: "wharfd",
            dependencies: [
                "WharfCore",
                "WharfConfig",
                "Broker",
                "MQTTCodec",
                "Store",
                "AdapterKit",
                "WharfGateway",
                "WharfSupport",
                "WharfChecks",
                "AdminAPI",
                "RemoteConfigHost",
                "RemoteConfigState",
                "Uplink",
                "WharfAuth",
                "WharfCtlCommands",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The small C program that starts each plugin (docs/plugins.md, "Process model").
        .executableTarget(
            name: "wharf-launch",
            path: "Sources/wharf-launch"
        ),
        // wharfctl: not an executable of its own but a mode of wharfd, which runs these commands
        // when started as `wharfctl` (a symbolic link to it): one binary carries the Swift runtime
        // and the libraries for both.
        .target(
            name: "WharfCtlCommands",
            dependencies: [
                "MQTTCodec",
                "PluginProtocol",
                "RemoteConfig",
                "RemoteConfigHost",
                "WharfAuth",
                "WharfChecks",
                "WharfConfig",
                "WharfCore",
                "WharfSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WharfBench",
            dependencies: [
                "MQTTCodec",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Benchmarks/WharfBench",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BenchSupport",
            path: "Benchmarks/Support",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WharfStoreBench",
            dependencies: [
                "BenchSupport",
                "Store",
                "CSQLite",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/WharfStoreBench",
            swiftSettings: swiftSettings
        ),
        // Publishes from one plugin through its pipe against the same from inside the process.
        .executableTarget(
            name: "WharfPluginBench",
            dependencies: [
                "BenchSupport",
                "AdapterKit",
                "AdminAPI",
                "Broker",
                "WharfConfig",
                "WharfCore",
                "WharfGateway",
                "WharfPlugins",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/WharfPluginBench",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "PluginProtocolTests",
            dependencies: [
                "PluginProtocol",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WharfPluginsTests",
            dependencies: [
                "WharfPlugins",
                "PluginProtocol",
                "AdapterKit",
                "WharfConfig",
                "WharfCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RemoteConfigStateTests",
            dependencies: [
                "RemoteConfigState",
                "WharfCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RemoteConfigHostTests",
            dependencies: [
                "RemoteConfig",
                "RemoteConfigHost",
                "RemoteConfigState",
                "WharfConfig",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RemoteConfigTests",
            dependencies: [
                "RemoteConfig",
                "WharfConfig",
                "WharfCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WharfSupportTests",
            dependencies: ["WharfSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WharfCoreTests",
            dependencies: [
                "WharfCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MQTTCodecTests",
            dependencies: [
                "MQTTCodec",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WharfAuthTests",
            dependencies: ["WharfAuth", "WharfCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WharfConfigTests",
            dependencies: ["WharfConfig", "WharfCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store",
                "WharfCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UplinkTests",
            dependencies: [
                "Uplink",
                .product(name: "Logging", package: "swift-log"),
                "MQTTCodec",
                "WharfCore",
                "AdapterKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BrokerTests",
            dependencies: [
                "Broker",
                "MQTTCodec",
                "WharfCore",
                "WharfConfig",
                "AdapterKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "WharfModbusTests",
            dependencies: [
                "WharfModbus",
                "AdapterKit",
                "WharfConfig",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "WharfCoAPTests",
            dependencies: [
                "WharfCoAP",
                "AdapterKit",
                "WharfAuth",
                "WharfConfig",
                "WharfCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // wharfctl's own logic (arguments, reports, push progress), through @testable import.
        .testTarget(
            name: "WharfCtlTests",
            dependencies: [
                "WharfCtlCommands",
                "MQTTCodec",
                "RemoteConfig",
                "RemoteConfigState",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "AdminAPITests",
            dependencies: [
                "AdminAPI",
                "AdapterKit",
                "WharfCore",
                "WharfConfig",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// MARK: Fuzzing (docs/architecture.md, "Fuzzing")
// libFuzzer targets, one per input surface, declared only when WHARF_FUZZ is set so that the
// ordinary build never sees them; scripts/fuzz.sh builds them with -sanitize=fuzzer,address in a
// scratch directory of their own.
if Context.environment["WHARF_FUZZ"] != nil {
    package.targets += [
        .target(name: "FuzzSupport", path: "Fuzz/Sources/FuzzSupport", swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzMQTTDecoder",
            dependencies: ["FuzzSupport", "MQTTCodec", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/Sources/FuzzMQTTDecoder",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzConfigReader",
            dependencies: ["FuzzSupport", "WharfConfig"],
            path: "Fuzz/Sources/FuzzConfigReader",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzPluginFramer",
            dependencies: ["FuzzSupport", "PluginProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/Sources/FuzzPluginFramer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FuzzRemoteConfigJSON",
            dependencies: ["FuzzSupport", "RemoteConfig"],
            path: "Fuzz/Sources/FuzzRemoteConfigJSON",
            swiftSettings: swiftSettings
        ),
    ]
}
