/// A usage mistake on the command line.
public struct UsageError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Parses `--name value`, `--name=value`, flags and positional arguments against a command's option table.
/// Unknown options get a "did you mean" from the table.
struct ArgumentParser {
    struct Option {
        var name: String
        var takesValue: Bool
        var help: String
        var valueName: String = "VALUE"
    }

    let options: [Option]
    private(set) var values: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    init(options: [Option], arguments: [String]) throws(UsageError) {
        self.options = options
        var index = 0
        var onlyPositional = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositional || argument == "-" || !argument.hasPrefix("-") {
                positional.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositional = true
                continue
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if name == "-h" { name = "--help" }
            guard let option = options.first(where: { $0.name == name }) else {
                let hint =
                    closestName(to: name, among: options.map(\.name), maximumDistance: 3).map {
                        " (did you mean \($0)?)"
                    } ?? ""
                throw UsageError(message: "unknown option \(name)\(hint)")
            }
            if option.takesValue {
                if let inlineValue {
                    values[name, default: []].append(inlineValue)
                } else if index < arguments.count {
                    values[name, default: []].append(arguments[index])
                    index += 1
                } else {
                    throw UsageError(message: "option \(name) needs a value")
                }
            } else {
                guard inlineValue == nil else { throw UsageError(message: "option \(name) takes no value") }
                flags.insert(name)
            }
        }
    }

    func value(_ name: String) -> String? { values[name]?.last }

    /// Sets a flag as if it had been given (a command that reads it from another place, as diff's `--old
    /// --kubernetes`).
    mutating func setFlag(_ name: String) { flags.insert(name) }

    /// Every value of a repeatable option, in order.
    func allValues(_ name: String) -> [String] { values[name] ?? [] }

    func has(_ name: String) -> Bool { flags.contains(name) }

    func port(_ name: String, default fallback: Int) throws(UsageError) -> Int {
        guard let text = value(name) else { return fallback }
        guard let number = Int(text), (0...65535).contains(number) else {
            throw UsageError(message: "\(name) must be a port number (0–65535), not \"\(text)\"")
        }
        return number
    }

    /// The option table as help text.
    static func help(_ options: [Option]) -> String {
        options.map { option in
            let left = option.takesValue ? "\(option.name) \(option.valueName)" : option.name
            return "  " + left.padding(toLength: max(28, left.count + 2), withPad: " ", startingAt: 0) + option.help
        }.joined(separator: "\n")
    }
}
