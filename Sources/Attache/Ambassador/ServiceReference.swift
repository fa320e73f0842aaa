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
///
/// Works on UTF-8 bytes: it runs once per Mapping, and Character-level string handling made it a hot spot.
func parseServiceReference(_ service: String) -> Result<ParsedService, ServiceProblem> {
    let bytes = Array(service.utf8)
    let text = abbreviated(service)  // as messages quote it
    func string(_ slice: ArraySlice<UInt8>) -> String { String(decoding: slice, as: UTF8.self) }
    func lowercased(_ slice: ArraySlice<UInt8>) -> String {
        String(decoding: slice.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d }

    if containsPair(bytes, UInt8(ascii: "{")) || containsPair(bytes, UInt8(ascii: "}")) {
        return .failure(
            ServiceProblem(
                code: .unrenderedTemplate,
                message:
                    "`service` \"\(text)\" contains template text: the manifest was not rendered (run `helm template` first)"
            ))
    }
    if bytes.contains(where: isSpace) {
        let words = bytes.split(whereSeparator: isSpace)
        if words.count >= 2, let key = words.dropFirst().first(where: { $0.last == UInt8(ascii: ":") && $0.count > 1 })
        {
            return .failure(
                ServiceProblem(
                    code: .fieldsShareLine,
                    message:
                        "`service` is \"\(text)\": `\(string(key))` seems to share one line with `service`; put each field on a line of its own"
                ))
        }
        return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" contains whitespace"))
    }
    var rest = bytes[...]
    var scheme: String?
    if let colon = rest.firstIndex(of: UInt8(ascii: ":")), rest[colon...].starts(with: "://".utf8) {
        let written = lowercased(rest[..<colon])
        guard written == "http" || written == "https" else {
            return .failure(
                ServiceProblem(
                    code: .serviceInvalid,
                    message: "`service` \"\(text)\" has scheme \"\(written)\"; only http:// and https:// are supported")
            )
        }
        scheme = written
        rest = rest[(colon + 3)...]
    }
    var droppedPath = false
    if let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
        droppedPath = rest.endIndex - slash > 1
        rest = rest[..<slash]
    }
    var hostPart = rest
    var portPart: ArraySlice<UInt8>?
    let isIPv6 = rest.first == UInt8(ascii: "[")
    if isIPv6 {
        guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else {
            return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has an unclosed `[`"))
        }
        hostPart = rest[(rest.startIndex + 1)..<close]
        let after = rest[(close + 1)...]
        if after.first == UInt8(ascii: ":") {
            portPart = after.dropFirst()
        } else if !after.isEmpty {
            return .failure(
                ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has text after the IPv6 address"))
        }
    } else if let colon = rest.lastIndex(of: UInt8(ascii: ":")) {
        hostPart = rest[..<colon]
        portPart = rest[(colon + 1)...]
    }
    guard !hostPart.isEmpty else {
        return .failure(ServiceProblem(code: .serviceInvalid, message: "`service` \"\(text)\" has no host"))
    }
    if isIPv6, !isIPAddressLiteral(string(hostPart)) {
        return .failure(
            ServiceProblem(
                code: .addressInvalid,
                message: "`service` \"\(text)\" has \"\(string(hostPart))\" in brackets, which is not an IPv6 address"))
    }
    for byte in hostPart {
        let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
        let allowed: Bool
        if isIPv6 {
            allowed =
                (lower >= UInt8(ascii: "0") && lower <= UInt8(ascii: "9"))
                || (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "f"))
                || lower == UInt8(ascii: ":") || lower == UInt8(ascii: ".")
        } else {
            allowed =
                (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
                || (lower >= UInt8(ascii: "0") && lower <= UInt8(ascii: "9"))
                || lower == UInt8(ascii: "-") || lower == UInt8(ascii: ".") || lower == UInt8(ascii: "_")
        }
        if !allowed {
            return .failure(
                ServiceProblem(
                    code: .serviceInvalid,
                    message:
                        "`service` \"\(text)\" has \"\(firstCharacter(of: hostPart, from: byte))\" in its host name"
                ))
        }
    }
    var port: Int?
    var portName: String?
    if let portPart {
        let isNumber =
            !portPart.isEmpty && portPart.count <= 9
            && portPart.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        if isNumber {
            let number = portPart.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard (1...65535).contains(number) else {
                return .failure(
                    ServiceProblem(
                        code: .serviceInvalid, message: "`service` \"\(text)\" has port \(number), outside 1–65535"))
            }
            port = number
        } else if !portPart.isEmpty,
            portPart.allSatisfy({
                ($0 | 0x20 >= UInt8(ascii: "a") && $0 | 0x20 <= UInt8(ascii: "z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-")
            })
        {
            portName = lowercased(portPart)
        } else {
            return .failure(
                ServiceProblem(
                    code: .serviceInvalid,
                    message:
                        "`service` \"\(text)\" has port \"\(string(portPart))\", which is neither a number nor a port name"
                ))
        }
    }
    return .success(
        ParsedService(
            reference: ServiceReference(scheme: scheme, host: lowercased(hostPart), port: port, portName: portName),
            droppedPath: droppedPath))
}

/// True when `byte` appears twice in a row (`{{`, `}}`).
private func containsPair(_ bytes: [UInt8], _ byte: UInt8) -> Bool {
    guard bytes.count > 1 else { return false }
    for i in 1..<bytes.count where bytes[i] == byte && bytes[i - 1] == byte { return true }
    return false
}

/// The whole character that starts where `byte` first occurs in `bytes`, for messages: a multi-byte character is
/// never cut in half (`é`, not a replacement character).
private func firstCharacter(of bytes: some Collection<UInt8>, from byte: UInt8) -> String {
    guard let start = bytes.firstIndex(of: byte) else { return "" }
    return String(String(decoding: bytes[start...], as: UTF8.self).prefix(1))
}
