// swift-tools-version: 6.0
import PackageDescription

/// Attaché: Ambassador Mappings in, Envoy v3 config out.
/// No package dependencies: Foundation, XCTest, libyaml through the CYAML system library, and libcurl (HTTPS to the
/// Kubernetes API) through CCurl.
let package = Package(
    name: "Attache",
    products: [
        .executable(name: "attache", targets: ["attache"]),
        .library(name: "Attache", targets: ["Attache"]),
    ],
    targets: [
        /// libyaml, found through pkg-config (`apt-get install libyaml-dev`).
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        /// libcurl, found through pkg-config (`apt-get install libcurl4-openssl-dev`).
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        /// YAML text → node tree with positions. The only module that imports CYAML.
        .target(name: "YAML", dependencies: ["CYAML"]),
        /// HTTPS to the Kubernetes API server (private CA, client certificates from memory, streamed watches). The
        /// only module that imports CCurl.
        .target(name: "KubernetesHTTP", dependencies: ["CCurl"]),
        /// The whole pipeline: Kubernetes objects → Ambassador resources → routing model → Envoy resources.
        .target(name: "Attache", dependencies: ["YAML", "KubernetesHTTP"]),
        /// The command-line entry point: a few lines that call into the library.
        .executableTarget(name: "attache", dependencies: ["Attache"]),
        /// libFuzzer targets over the whole pipeline (scripts/fuzz builds them with -sanitize=fuzzer,address);
        /// built normally, a tool that replays saved inputs.
        .executableTarget(name: "AttacheFuzz", dependencies: ["Attache", "YAML"]),
        .testTarget(name: "AttacheTests", dependencies: ["Attache", "YAML"]),
    ]
)
