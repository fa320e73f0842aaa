import Foundation

// Bytes (part): what the protobuf encoder knows of Envoy's messages. Field numbers and wire types are facts of
// Envoy's API; EnvoySchema.swift holds them as text generated from Envoy's own descriptors
// (scripts/protobuf/schema.py), read once into the tables below the first time a file is encoded.

/// The messages and enums an xDS file can contain, by name, with each field's number, kind and repetition.
struct ProtobufSchema: Sendable {
    /// The proto3 JSON mapping gives these messages a JSON form of their own (a string for a Duration, a bare
    /// value for a wrapper, any JSON for a Struct): the encoder handles each by name.
    enum WellKnown: Sendable, Equatable {
        case any, duration, structure, value, list, empty
        /// `google.protobuf.*Value`: a message whose field 1 holds the JSON scalar.
        case wrapper(Scalar)
        /// Timestamp and FieldMask (index into `unsupportedNames`): no Attaché file holds one; refused rather
        /// than guessed.
        case unsupported(Int)
    }

    /// A field's scalar type (the proto type, which fixes the wire type and the number encoding).
    enum Scalar: Sendable, Equatable {
        case double, float, int64, uint64, int32, uint32, sint32, sint64, fixed32, fixed64, sfixed32, sfixed64
        case bool, string, bytes
    }

    enum Kind: Sendable, Equatable {
        case scalar(Scalar)
        /// Index into `enums`.
        case enumeration(Int)
        /// Index into `messages`.
        case message(Int)
        case wellKnown(WellKnown)
    }

    /// A field, as plain values (no references: the encoder looks up one per JSON member, and copying a field
    /// must not touch reference counts).
    struct Field: Sendable {
        let number: Int
        let repeated: Bool
        let kind: Kind
        /// The message it belongs to, and its name's bytes in `names`.
        let message: Int
        let nameStart: Int
        let nameCount: Int
    }

    struct Message: Sendable {
        let name: String
        /// A map field's entry (`key` = 1, `value` = 2): its JSON form is an object whose keys are the map's keys.
        let isMapEntry: Bool
        /// Its fields in `fields`, in field-number order.
        var fieldRange: Range<Int> = 0..<0
    }

    var messages: [Message] = []
    var messageIndex: [String: Int] = [:]
    var fields: [Field] = []
    /// Every field name's bytes, one after the other.
    var names: [UInt8] = []
    /// Each enum's value numbers by value name.
    var enums: [[String: Int]] = []
    var enumNames: [String] = []
    var unsupportedNames: [String] = []
    /// An open-addressing table from (message, field name) to field: `slotKeys` holds the key hash, `slots` the
    /// field's index + 1 (0: empty). Twice as many slots as fields, so probes stay short.
    private var slotKeys: [UInt64] = []
    private var slots: [Int32] = []
    private var slotMask = 0

    /// Envoy's schema, parsed on first use.
    static let envoy = ProtobufSchema(text: envoySchemaText)

    /// Reads the generated text (see EnvoySchema.swift for its grammar). The text is compiled into the program and
    /// checked by the tests, so a line it cannot read is skipped rather than reported.
    init(text: String) {
        var enumIndex: [String: Int] = [:]
        var pendingFields: [(message: Int, name: String, number: Int, repeated: Bool, kind: String, type: String)] = []
        var currentMessage: Int?
        var currentEnum: Int?
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "M", words.count >= 2 {
                messageIndex[words[1]] = messages.count
                messages.append(Message(name: words[1], isMapEntry: words.count > 2 && words[2] == "map"))
                currentMessage = messages.count - 1
                currentEnum = nil
            } else if words.first == "E", words.count == 2 {
                enumIndex[words[1]] = enums.count
                enums.append([:])
                enumNames.append(words[1])
                currentEnum = enums.count - 1
                currentMessage = nil
            } else if let message = currentMessage, words.count >= 4, let number = Int(words[1]) {
                pendingFields.append(
                    (message, words[0], number, words[2] == "*", words[3], words.count > 4 ? words[4] : ""))
            } else if let enumeration = currentEnum, words.count == 2, let number = Int(words[1]) {
                enums[enumeration][words[0]] = number
            }
        }
        // Kinds are resolved once every message has an index (a field may name a message defined further on).
        for pending in pendingFields {
            let kind: Kind
            switch pending.kind {
            case "message":
                if let special = Self.wellKnown[pending.type] {
                    kind = .wellKnown(special)
                } else if let index = messageIndex[pending.type] {
                    kind = .message(index)
                } else {
                    unsupportedNames.append(pending.type)
                    kind = .wellKnown(.unsupported(unsupportedNames.count - 1))
                }
            case "enum":
                guard let index = enumIndex[pending.type] else { continue }
                kind = .enumeration(index)
            default:
                guard let scalar = Self.scalars[pending.kind] else { continue }
                kind = .scalar(scalar)
            }
            let name = Array(pending.name.utf8)
            if messages[pending.message].fieldRange.isEmpty {
                messages[pending.message].fieldRange = fields.count..<fields.count
            }
            fields.append(
                Field(
                    number: pending.number, repeated: pending.repeated, kind: kind, message: pending.message,
                    nameStart: names.count, nameCount: name.count))
            messages[pending.message].fieldRange = messages[pending.message].fieldRange.lowerBound..<fields.count
            names += name
        }
        var capacity = 16
        while capacity < fields.count * 2 { capacity *= 2 }
        slotKeys = Array(repeating: 0, count: capacity)
        slots = Array(repeating: 0, count: capacity)
        slotMask = capacity - 1
        for (index, field) in fields.enumerated() {
            let key = names.withUnsafeBufferPointer {
                Self.key(
                    UnsafeBufferPointer(rebasing: $0[field.nameStart..<(field.nameStart + field.nameCount)]),
                    field.message)
            }
            var slot = Int(truncatingIfNeeded: key) & slotMask
            while slots[slot] != 0 { slot = (slot + 1) & slotMask }
            slotKeys[slot] = key
            slots[slot] = Int32(index + 1)
        }
    }

    /// The field of message `message` whose JSON name is `name` (Attaché writes the proto field names).
    func field(of message: Int, named name: UnsafeBufferPointer<UInt8>) -> Field? {
        let key = Self.key(name, message)
        var slot = Int(truncatingIfNeeded: key) & slotMask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if slotKeys[slot] == key {
                let field = fields[entry - 1]
                if field.message == message, field.nameCount == name.count,
                    names.withUnsafeBufferPointer({
                        memcmp($0.baseAddress! + field.nameStart, name.baseAddress!, name.count) == 0
                    })
                {
                    return field
                }
            }
            slot = (slot + 1) & slotMask
        }
    }

    /// A field's name.
    func name(of field: Field) -> String {
        String(decoding: names[field.nameStart..<(field.nameStart + field.nameCount)], as: UTF8.self)
    }

    /// FNV-1a over a field name's bytes, mixed with its message's index.
    private static func key(_ name: UnsafeBufferPointer<UInt8>, _ message: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash &+ UInt64(message) &* 0x9E37_79B9_7F4A_7C15
    }

    static let scalars: [String: Scalar] = [
        "double": .double, "float": .float, "int64": .int64, "uint64": .uint64, "int32": .int32, "uint32": .uint32,
        "sint32": .sint32, "sint64": .sint64, "fixed32": .fixed32, "fixed64": .fixed64, "sfixed32": .sfixed32,
        "sfixed64": .sfixed64, "bool": .bool, "string": .string, "bytes": .bytes,
    ]

    /// The well-known types by name (Timestamp and FieldMask are left to `unsupported`, as any unknown message).
    static let wellKnown: [String: WellKnown] = [
        "google.protobuf.Any": .any, "google.protobuf.Duration": .duration, "google.protobuf.Struct": .structure,
        "google.protobuf.Value": .value, "google.protobuf.ListValue": .list, "google.protobuf.Empty": .empty,
        "google.protobuf.DoubleValue": .wrapper(.double), "google.protobuf.FloatValue": .wrapper(.float),
        "google.protobuf.Int64Value": .wrapper(.int64), "google.protobuf.UInt64Value": .wrapper(.uint64),
        "google.protobuf.Int32Value": .wrapper(.int32), "google.protobuf.UInt32Value": .wrapper(.uint32),
        "google.protobuf.BoolValue": .wrapper(.bool), "google.protobuf.StringValue": .wrapper(.string),
        "google.protobuf.BytesValue": .wrapper(.bytes),
    ]
}
