// Bytes (part): the JSON Attaché renders → the same message in protobuf's binary wire format.
//
// Why: Envoy reads a file-based xDS resource in either form (it goes by the extension: `.pb` is binary), and at
// 10,000 Mappings its JSON parse of cds.json and rds.json was most of the time a Mapping took to go live (1.2–1.4 s
// against 0.2–0.4 s for the same files in binary; docs/PERFORMANCE.md). The resources are still built and rendered
// once, as JSON (the form every reader of Attaché's output uses); this pass re-encodes those bytes in one scan,
// guided by the schema, so the two forms cannot disagree.
//
// It follows the proto3 JSON mapping for what Attaché writes: fields by proto name, enums by name or number,
// 64-bit integers as numbers or strings, `Any` with its `@type`, Duration strings, wrapper scalars, Struct/Value
// as any JSON, maps as objects, `null` as absent. A name the schema does not have is an error (as it is for Envoy),
// never dropped. Repeated scalars are written unpacked, which every protobuf parser accepts.

/// Why a JSON document could not be encoded: the byte offset in the JSON and what was wrong there.
public struct ProtobufEncodingError: Error, CustomStringConvertible, Equatable {
    public let offset: Int
    public let reason: String
    public var description: String { "protobuf encoding failed at JSON byte \(offset): \(reason)" }
}

/// Encodes a JSON document as the binary form of the message `rootType` (a full proto name, e.g.
/// `envoy.service.discovery.v3.DiscoveryResponse`).
public func protobufEncoding(ofJSON json: [UInt8], as rootType: String) throws(ProtobufEncodingError) -> [UInt8] {
    let schema = ProtobufSchema.envoy
    guard let root = schema.messageIndex[rootType] else {
        throw ProtobufEncodingError(offset: 0, reason: "no message \(rootType) in the schema")
    }
    return try json.withUnsafeBufferPointer { input throws(ProtobufEncodingError) in
        var encoder = ProtobufEncoder(input: input, schema: schema)
        encoder.output.reserveCapacity(json.count / 2)
        encoder.skipSpace()
        try encoder.messageBody(root)
        encoder.skipSpace()
        guard encoder.position == input.count else { throw encoder.failure("text after the document") }
        return encoder.output
    }
}

/// One scan over the JSON, writing protobuf as it goes. A nested message is written where it stands with a
/// one-byte length placeholder, widened once its size is known (a shift of that message's bytes, only when it
/// is 128 bytes or more).
struct ProtobufEncoder {
    let input: UnsafeBufferPointer<UInt8>
    let schema: ProtobufSchema
    var position = 0
    var output: [UInt8] = []
    /// Decoded bytes of a string with escapes (the rest are copied straight from the input).
    var scratch: [UInt8] = []

    init(input: UnsafeBufferPointer<UInt8>, schema: ProtobufSchema) {
        self.input = input
        self.schema = schema
    }

    func failure(_ reason: String) -> ProtobufEncodingError {
        ProtobufEncodingError(offset: position, reason: reason)
    }

    // MARK: Messages

    /// `{ "field": value, ... }` as the fields of message `index`, without tag or length (the caller writes them).
    mutating func messageBody(_ index: Int) throws(ProtobufEncodingError) {
        try expect(UInt8(ascii: "{"))
        try fields(of: index, opened: false)
    }

    /// The members of an object whose `{` has been read (and, with `opened`, some members too), up to its `}`.
    /// `inAny`: the object is an `Any`'s, whose `@type` member is not one of the message's fields.
    mutating func fields(of index: Int, opened: Bool, inAny: Bool = false) throws(ProtobufEncodingError) {
        try eachMember(opened: opened) { encoder, key throws(ProtobufEncodingError) in
            if inAny, encoder.isTypeKey(key) {
                _ = try encoder.stringRange()
                return
            }
            let input = encoder.input
            guard let field = encoder.schema.field(of: index, named: UnsafeBufferPointer(rebasing: input[key])) else {
                encoder.position = key.lowerBound
                throw encoder.failure(
                    "\(encoder.schema.messages[index].name) has no field \"\(String(decoding: input[key], as: UTF8.self))\""
                )
            }
            try encoder.value(of: field)
        }
    }

    /// A field's JSON value: an array for a repeated field (each element written as one occurrence), an object
    /// for a map, `null` for absent.
    mutating func value(of field: ProtobufSchema.Field) throws(ProtobufEncodingError) {
        if literal("null") { return }
        guard field.repeated else { return try single(field.number, field.kind) }
        if case .message(let entry) = field.kind, schema.messages[entry].isMapEntry {
            return try mapEntries(field.number, entry: entry)
        }
        try eachElement { encoder throws(ProtobufEncodingError) in try encoder.single(field.number, field.kind) }
    }

    /// One occurrence of field `number`.
    mutating func single(_ number: Int, _ kind: ProtobufSchema.Kind) throws(ProtobufEncodingError) {
        switch kind {
        case .scalar(let scalar):
            try self.scalar(number, scalar)
        case .enumeration(let enumeration):
            tag(number, wire: 0)
            if peek == UInt8(ascii: "\"") {
                let range = try stringRange()
                let name = String(decoding: input[range], as: UTF8.self)
                guard let value = schema.enums[enumeration][name] else {
                    position = range.lowerBound
                    throw failure("\(schema.enumNames[enumeration]) has no value \(name)")
                }
                varint(UInt64(bitPattern: Int64(value)))
            } else {
                varint(UInt64(bitPattern: try integer(signed: true)))
            }
        case .message(let index):
            let start = beginLengthDelimited(number)
            try messageBody(index)
            endLengthDelimited(start)
        case .wellKnown(let known):
            try wellKnown(number, known)
        }
    }

    /// A map field: one entry message (`key` = 1, `value` = 2) per member of the JSON object. Every map in
    /// Envoy's API that Attaché writes has string keys (the member names, written as they are).
    mutating func mapEntries(_ number: Int, entry: Int) throws(ProtobufEncodingError) {
        let fields = schema.fields[schema.messages[entry].fieldRange]
        guard fields.count == 2, let key = fields.first, let value = fields.last, key.number == 1, value.number == 2,
            case .scalar(.string) = key.kind
        else {
            throw failure("\(schema.messages[entry].name) is not a map entry with string keys")
        }
        try expect(UInt8(ascii: "{"))
        try eachMember { encoder, name throws(ProtobufEncodingError) in
            let start = encoder.beginLengthDelimited(number)
            encoder.stringField(1, name)
            try encoder.single(2, value.kind)
            encoder.endLengthDelimited(start)
        }
    }

    // MARK: Well-known types

    mutating func wellKnown(_ number: Int, _ known: ProtobufSchema.WellKnown) throws(ProtobufEncodingError) {
        if case .unsupported(let index) = known {
            throw failure("\(schema.unsupportedNames[index]) is not encoded (no Attaché file holds one)")
        }
        let start = beginLengthDelimited(number)
        switch known {
        case .any: try any()
        case .duration: try duration()
        case .structure: try structure()
        case .value: try structValue()
        case .list: try list()
        case .empty:
            try expect(UInt8(ascii: "{"))
            skipSpace()
            try expect(UInt8(ascii: "}"))
        case .wrapper(let scalar): try self.scalar(1, scalar)
        case .unsupported: break
        }
        endLengthDelimited(start)
    }

    /// An `Any`: `type_url` (1) from the object's `@type`, then the named message as `value` (2). Attaché writes
    /// `@type` first; when it is not, the object is scanned for it and read again.
    mutating func any() throws(ProtobufEncodingError) {
        let objectStart = position
        try expect(UInt8(ascii: "{"))
        skipSpace()
        var typeURL: Range<Int>
        var opened = true
        let first = try stringRange()
        if isTypeKey(first) {
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            typeURL = try stringRange()
        } else {
            typeURL = try findType(objectStart)
            position = objectStart + 1
            opened = false
        }
        guard let slash = input[typeURL].lastIndex(of: UInt8(ascii: "/")),
            let index = schema.messageIndex[String(decoding: input[(slash + 1)..<typeURL.upperBound], as: UTF8.self)]
        else {
            position = typeURL.lowerBound
            throw failure("no message for @type \(String(decoding: input[typeURL], as: UTF8.self))")
        }
        bytesField(1, UnsafeBufferPointer(rebasing: input[typeURL]))
        let start = beginLengthDelimited(2)
        try fields(of: index, opened: opened, inAny: true)
        endLengthDelimited(start)
    }

    /// The range of the `@type` value among the members of the object at `start`, stepping over the others.
    mutating func findType(_ start: Int) throws(ProtobufEncodingError) -> Range<Int> {
        position = start + 1
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { break }
            let key = try stringRange()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            if isTypeKey(key) { return try stringRange() }
            try skipValue()
            skipSpace()
            if peek == UInt8(ascii: ",") { position += 1 }
        }
        position = start
        throw failure("an Any without @type")
    }

    /// A Duration from its JSON string: `[-]seconds[.fraction]s`.
    mutating func duration() throws(ProtobufEncodingError) {
        let range = try stringRange()
        var text = input[range]
        guard text.last == UInt8(ascii: "s") else { throw failure("a Duration must end in s") }
        text = text.dropLast()
        var negative = false
        if text.first == UInt8(ascii: "-") {
            negative = true
            text = text.dropFirst()
        }
        var seconds: Int64 = 0
        var nanos: Int64 = 0
        var fractionDigits = -1
        for byte in text {
            if byte == UInt8(ascii: "."), fractionDigits < 0 {
                fractionDigits = 0
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                let digit = Int64(byte - UInt8(ascii: "0"))
                if fractionDigits < 0 {
                    let (product, overflow) = seconds.multipliedReportingOverflow(by: 10)
                    guard !overflow, product <= 315_576_000_000 else { throw failure("a Duration out of range") }
                    seconds = product + digit
                } else {
                    guard fractionDigits < 9 else { throw failure("a Duration finer than nanoseconds") }
                    nanos = nanos * 10 + digit
                    fractionDigits += 1
                }
            } else {
                position = range.lowerBound
                throw failure("not a Duration: \(String(decoding: input[range], as: UTF8.self))")
            }
        }
        if fractionDigits > 0 { for _ in fractionDigits..<9 { nanos *= 10 } }
        if negative {
            seconds = -seconds
            nanos = -nanos
        }
        if seconds != 0 {
            tag(1, wire: 0)
            varint(UInt64(bitPattern: seconds))
        }
        if nanos != 0 {
            tag(2, wire: 0)
            varint(UInt64(bitPattern: nanos))
        }
    }

    /// A Struct: `fields` (1), a map from each member's name to its Value.
    mutating func structure() throws(ProtobufEncodingError) {
        try expect(UInt8(ascii: "{"))
        try eachMember { encoder, name throws(ProtobufEncodingError) in
            let start = encoder.beginLengthDelimited(1)
            encoder.stringField(1, name)
            let value = encoder.beginLengthDelimited(2)
            try encoder.structValue()
            encoder.endLengthDelimited(value)
            encoder.endLengthDelimited(start)
        }
    }

    /// A Value's body: whichever of null (1), number (2), string (3), bool (4), struct (5), list (6) the JSON is.
    mutating func structValue() throws(ProtobufEncodingError) {
        switch peek {
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            tag(1, wire: 0)
            varint(0)
        case UInt8(ascii: "\""):
            try scalar(3, .string)
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            try scalar(4, .bool)
        case UInt8(ascii: "{"):
            let start = beginLengthDelimited(5)
            try structure()
            endLengthDelimited(start)
        case UInt8(ascii: "["):
            let start = beginLengthDelimited(6)
            try list()
            endLengthDelimited(start)
        default:
            try scalar(2, .double)
        }
    }

    /// A ListValue: `values` (1), one Value per element.
    mutating func list() throws(ProtobufEncodingError) {
        try eachElement { encoder throws(ProtobufEncodingError) in
            let start = encoder.beginLengthDelimited(1)
            try encoder.structValue()
            encoder.endLengthDelimited(start)
        }
    }

    // MARK: JSON structure

    /// Calls `body` for each member of an object whose `{` has been read (with `opened`, some members too), with
    /// the position at the member's value and the range of its name (decoded into `scratch` when
    /// `scratchHolds`); returns after the `}`.
    mutating func eachMember(
        opened: Bool = false, _ body: (inout ProtobufEncoder, Range<Int>) throws(ProtobufEncodingError) -> Void
    ) throws(ProtobufEncodingError) {
        var first = !opened
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") {
                position += 1
                return
            }
            if !first { try expect(UInt8(ascii: ",")) }
            first = false
            skipSpace()
            let name = try stringRange()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            try body(&self, name)
        }
    }

    /// Calls `body` for each element of an array (its `[` next), with the position at the element; returns after
    /// the `]`.
    mutating func eachElement(_ body: (inout ProtobufEncoder) throws(ProtobufEncodingError) -> Void)
        throws(ProtobufEncodingError)
    {
        try expect(UInt8(ascii: "["))
        skipSpace()
        if peek == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            skipSpace()
            try body(&self)
            skipSpace()
            if peek == UInt8(ascii: "]") {
                position += 1
                return
            }
            try expect(UInt8(ascii: ","))
        }
    }

    // MARK: Scalars

    mutating func scalar(_ number: Int, _ scalar: ProtobufSchema.Scalar) throws(ProtobufEncodingError) {
        switch scalar {
        case .string:
            stringField(number, try stringRange())
        case .bytes:
            let range = try stringRange()
            let text = scratchHolds ? scratch : Array(input[range])
            guard let data = base64Decoded(text) else {
                position = range.lowerBound
                throw failure("bytes that are not base64")
            }
            data.withUnsafeBufferPointer { bytesField(number, $0) }
        case .bool:
            tag(number, wire: 0)
            if literal("true") {
                varint(1)
            } else {
                try expectLiteral("false")
                varint(0)
            }
        case .int32, .int64, .uint32, .uint64, .sint32, .sint64:
            let signed = scalar == .int32 || scalar == .int64 || scalar == .sint32 || scalar == .sint64
            let value = try integer(signed: signed)
            if scalar == .int32 || scalar == .sint32, Int32(exactly: value) == nil {
                throw failure("\(value) is out of range for a 32-bit integer")
            }
            if scalar == .uint32, UInt32(exactly: UInt64(bitPattern: value)) == nil {
                throw failure("\(UInt64(bitPattern: value)) is out of range for a 32-bit unsigned integer")
            }
            tag(number, wire: 0)
            switch scalar {
            case .sint32, .sint64: varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
            default: varint(UInt64(bitPattern: value))
            }
        case .fixed32, .sfixed32:
            let value = try integer(signed: scalar == .sfixed32)
            tag(number, wire: 5)
            littleEndian(UInt64(bitPattern: value), bytes: 4)
        case .fixed64, .sfixed64:
            let value = try integer(signed: scalar == .sfixed64)
            tag(number, wire: 1)
            littleEndian(UInt64(bitPattern: value), bytes: 8)
        case .double:
            let value = try floatingPoint()
            tag(number, wire: 1)
            littleEndian(value.bitPattern, bytes: 8)
        case .float:
            let value = try floatingPoint()
            tag(number, wire: 5)
            littleEndian(UInt64(Float(value).bitPattern), bytes: 4)
        }
    }

    /// An integer as a JSON number or a string holding one (proto3 JSON writes 64-bit integers as strings). An
    /// unsigned value above Int64.max comes back as its bit pattern.
    mutating func integer(signed: Bool) throws(ProtobufEncodingError) -> Int64 {
        let quoted = peek == UInt8(ascii: "\"")
        if quoted { position += 1 }
        let start = position
        var negative = false
        if peek == UInt8(ascii: "-") {
            guard signed else { throw failure("a negative value for an unsigned field") }
            negative = true
            position += 1
        }
        var magnitude: UInt64 = 0
        var digits = 0
        while position < input.count, input[position] >= UInt8(ascii: "0"), input[position] <= UInt8(ascii: "9") {
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = product.addingReportingOverflow(UInt64(input[position] - UInt8(ascii: "0")))
            guard !overflow, !carry else { throw failure("an integer out of range") }
            magnitude = sum
            position += 1
            digits += 1
        }
        guard digits > 0 else {
            position = start
            throw failure("an integer expected")
        }
        if position < input.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(input[position]) {
            position = start
            throw failure("an integer expected, not a fraction or exponent")
        }
        if quoted { try expect(UInt8(ascii: "\"")) }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw failure("an integer out of range") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        if signed, magnitude > UInt64(Int64.max) { throw failure("an integer out of range") }
        return Int64(bitPattern: magnitude)
    }

    /// A JSON number (or the strings proto3 JSON allows for the special values) as a Double.
    mutating func floatingPoint() throws(ProtobufEncodingError) -> Double {
        if peek == UInt8(ascii: "\"") {
            let range = try stringRange()
            let text = String(decoding: input[range], as: UTF8.self)
            switch text {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                guard let value = Double(text) else { throw failure("not a number: \(text)") }
                return value
            }
        }
        let start = position
        while position < input.count, numberBytes.contains(input[position]) { position += 1 }
        guard let value = Double(String(decoding: input[start..<position], as: UTF8.self)) else {
            position = start
            throw failure("a number expected")
        }
        return value
    }

    // MARK: Wire format

    mutating func tag(_ number: Int, wire: Int) {
        varint(UInt64(number << 3 | wire))
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(rest))
    }

    mutating func littleEndian(_ value: UInt64, bytes: Int) {
        for shift in stride(from: 0, to: bytes * 8, by: 8) { output.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// The string just read (`range`, or `scratch` when it had escapes) as field `number`.
    mutating func stringField(_ number: Int, _ range: Range<Int>) {
        if scratchHolds {
            let decoded = scratch
            decoded.withUnsafeBufferPointer { bytesField(number, $0) }
        } else {
            bytesField(number, UnsafeBufferPointer(rebasing: input[range]))
        }
    }

    mutating func bytesField(_ number: Int, _ bytes: UnsafeBufferPointer<UInt8>) {
        tag(number, wire: 2)
        varint(UInt64(bytes.count))
        output.append(contentsOf: bytes)
    }

    /// Writes field `number`'s tag and a one-byte length placeholder; returns where the placeholder is.
    mutating func beginLengthDelimited(_ number: Int) -> Int {
        tag(number, wire: 2)
        output.append(0)
        return output.count - 1
    }

    /// Puts the length of what followed the placeholder at `start` in its place, widening it when needed.
    mutating func endLengthDelimited(_ start: Int) {
        let length = output.count - start - 1
        if length < 0x80 {
            output[start] = UInt8(length)
            return
        }
        var prefix: [UInt8] = []
        var rest = UInt64(length)
        while rest >= 0x80 {
            prefix.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        prefix.append(UInt8(rest))
        output.replaceSubrange(start..<(start + 1), with: prefix)
    }

    // MARK: JSON tokens

    /// Whether a member's name is `@type` (no proto field name starts with `@`).
    func isTypeKey(_ key: Range<Int>) -> Bool {
        key.count == 5 && input[key.lowerBound] == UInt8(ascii: "@") && input[key].elementsEqual("@type".utf8)
    }

    var peek: UInt8 { position < input.count ? input[position] : 0 }

    /// Set by `stringRange()` when the string had escapes: its decoded bytes are in `scratch`.
    var scratchHolds = false

    mutating func skipSpace() {
        while position < input.count {
            switch input[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8) throws(ProtobufEncodingError) {
        guard peek == byte else { throw failure("expected \"\(Character(Unicode.Scalar(byte)))\"") }
        position += 1
    }

    /// Consumes `word` if it is next.
    mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= input.count else { return false }
        let matches = word.withUTF8Buffer { input[position..<(position + count)].elementsEqual($0) }
        if matches { position += count }
        return matches
    }

    mutating func expectLiteral(_ word: StaticString) throws(ProtobufEncodingError) {
        guard literal(word) else { throw failure("expected \(word)") }
    }

    /// A JSON string: the range of its raw bytes between the quotes. When it has escapes, `scratchHolds` is set
    /// and `scratch` holds the decoded bytes.
    mutating func stringRange() throws(ProtobufEncodingError) -> Range<Int> {
        try expect(UInt8(ascii: "\""))
        let start = position
        scratchHolds = false
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return start..<(position - 1)
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            position += 1
        }
        throw failure("an unterminated string")
    }

    /// The rest of a string with escapes, decoded into `scratch`.
    mutating func escapedString(from start: Int) throws(ProtobufEncodingError) -> Range<Int> {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: input[start..<position])
        while position < input.count {
            let byte = input[position]
            position += 1
            if byte == UInt8(ascii: "\"") {
                scratchHolds = true
                return start..<(position - 1)
            }
            guard byte == UInt8(ascii: "\\") else {
                scratch.append(byte)
                continue
            }
            guard position < input.count else { break }
            let escaped = input[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard literal("\\u") else { throw failure("a lone surrogate") }
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("a lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw failure("an invalid \\u escape") }
                scratch.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: scratch.append(escaped)
            }
        }
        throw failure("an unterminated string")
    }

    mutating func hex4() throws(ProtobufEncodingError) -> UInt32 {
        guard position + 4 <= input.count else { throw failure("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Steps over any JSON value (used only to look for an `Any`'s `@type` written after its other members).
    mutating func skipValue() throws(ProtobufEncodingError) {
        switch peek {
        case UInt8(ascii: "\""):
            _ = try stringRange()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = peek == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            position += 1
            while true {
                skipSpace()
                if peek == close {
                    position += 1
                    return
                }
                if peek == UInt8(ascii: ",") || peek == UInt8(ascii: ":") {
                    position += 1
                    continue
                }
                guard position < input.count else { throw failure("an unterminated value") }
                try skipValue()
            }
        default:
            let start = position
            while position < input.count, literalBytes.contains(input[position]) { position += 1 }
            guard position > start else { throw failure("a value expected") }
        }
    }
}

/// The bytes a JSON number is made of.
private let numberBytes: Set<UInt8> = Set("0123456789+-.eE".utf8)
/// The bytes of a number or of true/false/null.
private let literalBytes: Set<UInt8> = Set("0123456789+-.eEtruefalsn".utf8)

/// Standard base64 (as proto3 JSON writes `bytes`), with or without padding; nil for anything else.
func base64Decoded(_ text: [UInt8]) -> [UInt8]? {
    var padded = text
    while padded.count % 4 != 0 { padded.append(UInt8(ascii: "=")) }
    var result: [UInt8] = []
    var buffer: UInt32 = 0
    var bits = 0
    for byte in padded {
        let value: UInt32
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
        case UInt8(ascii: "="): continue
        default: return nil
        }
        buffer = buffer << 6 | value
        bits += 6
        if bits >= 8 {
            bits -= 8
            result.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
        }
    }
    return result
}
