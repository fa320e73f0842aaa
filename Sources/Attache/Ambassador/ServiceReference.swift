import Foundation

/// Why a `service` value could not be read.
struct ServiceProblem: Error {
    var code: DiagnosticCode
    var message: String
}

/// A parsed `service` and whether a path part was dropped from it.
struct ParsedService {
    var reference: ServiceReference
    var droppedPath: Bool
}

/// Parses `[scheme://]host[:port][/path]` as Emissary does: scheme and host lowercased, the path dropped, the port
/// a number or (Attaché's extension) a Service port name. Catches the two broken inputs people paste most: two
/// YAML fields run together on one line, and Helm template text that was never rendered.
func parseServiceReference(_ text: String) -> Result<ParsedService, ServiceProblem> {
    if text.contains("{{") || text.contains("}}") {
        return .failure(ServiceProblem(code: .unrenderedTemplate, message: "`service` \"\(text)\" contains template text: the manifest was not rendered (run `helm template` first)"))
    }
    if text.contains(where: { $0.isWhitespace }) {
        let words = text.split(whereSeparator: { $0.isWhitespace })
        if words.count >= 2, let key = words.dropFirst().first(where: { $0.hasSuffix(":") && $0.count > 1 }) {
            return .failure(ServiceProblem(code: .fieldsShareLine, message: "`service` is \"\(text)\": `\(key)` seems to share one line with `service`; put each field on a line of its own"))
        }
        return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" contains whitespace"))
    }
    var rest = Substring(text)
    var scheme: String?
    if let range = rest.range(of: "://") {
        let written = rest[..<range.lowerBound].lowercased()
        guard written == "http" || written == "https" else {
            return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has scheme \"\(written)\"; only http:// and https:// are supported"))
        }
        scheme = written
        rest = rest[range.upperBound...]
    }
    var droppedPath = false
    if let slash = rest.firstIndex(of: "/") {
        droppedPath = rest[slash...].count > 1
        rest = rest[..<slash]
    }
    var hostPart = rest
    var portPart: Substring?
    if rest.hasPrefix("[") {
        // IPv6 literal: [addr] or [addr]:port
        guard let close = rest.firstIndex(of: "]") else {
            return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has an unclosed `[`"))
        }
        hostPart = rest[rest.index(after: rest.startIndex)..<close]
        let after = rest[rest.index(after: close)...]
        if after.hasPrefix(":") {
            portPart = after.dropFirst()
        } else if !after.isEmpty {
            return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has text after the IPv6 address"))
        }
    } else if let colon = rest.lastIndex(of: ":") {
        hostPart = rest[..<colon]
        portPart = rest[rest.index(after: colon)...]
    }
    let host = hostPart.lowercased()
    let isIPv6 = rest.hasPrefix("[")
    guard !host.isEmpty else {
        return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has no host"))
    }
    let allowed = isIPv6 ? "0123456789abcdef:." : "abcdefghijklmnopqrstuvwxyz0123456789-._"
    if let bad = host.first(where: { !allowed.contains($0) }) {
        return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has \"\(bad)\" in its host name"))
    }
    var port: Int?
    var portName: String?
    if let portPart {
        if let number = Int(portPart) {
            guard (1...65535).contains(number) else {
                return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has port \(number), outside 1–65535"))
            }
            port = number
        } else if !portPart.isEmpty, portPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            portName = portPart.lowercased()
        } else {
            return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has port \"\(portPart)\", which is neither a number nor a port name"))
        }
    }
    return .success(ParsedService(
        reference: ServiceReference(scheme: scheme, host: host, port: port, portName: portName), droppedPath: droppedPath))
}

/// Checks that a regex is one Envoy's RE2 engine accepts, so that one bad Mapping cannot make Envoy reject the
/// whole config. Foundation's engine checks the syntax; the constructs RE2 leaves out are refused by name.
enum RE2Check {
    static func problem(in regex: String) -> String? {
        let unsupported: [(String, String)] = [
            ("(?=", "lookahead"), ("(?!", "negative lookahead"), ("(?<=", "lookbehind"), ("(?<!", "negative lookbehind"),
            ("(?>", "atomic groups"), ("*+", "possessive quantifiers"), ("++", "possessive quantifiers"), ("?+", "possessive quantifiers"),
        ]
        for (construct, name) in unsupported where regex.contains(construct) {
            return "RE2 does not support \(name) (`\(construct)`)"
        }
        var previousWasBackslash = false
        for scalar in regex.unicodeScalars {
            if previousWasBackslash, ("1"..."9").contains(scalar) {
                return "RE2 does not support backreferences (`\\\(scalar)`)"
            }
            previousWasBackslash = !previousWasBackslash && scalar == "\\"
        }
        do {
            _ = try NSRegularExpression(pattern: regex)
        } catch {
            return "the pattern does not compile"
        }
        return nil
    }
}
