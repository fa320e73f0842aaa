import Foundation

/// The outside world a command may touch: standard output and error, and standard input. Tests pass their own.
public struct CommandIO: @unchecked Sendable {
    public var writeOut: ([UInt8]) -> Void
    public var writeErr: (String) -> Void
    public var readIn: () -> [UInt8]

    public init(writeOut: @escaping ([UInt8]) -> Void, writeErr: @escaping (String) -> Void, readIn: @escaping () -> [UInt8]) {
        self.writeOut = writeOut
        self.writeErr = writeErr
        self.readIn = readIn
    }

    public static var standard: CommandIO {
        CommandIO(
            writeOut: { FileHandle.standardOutput.write(Data($0)) },
            writeErr: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
            readIn: { Array(FileHandle.standardInput.readDataToEndOfFile()) })
    }

    func out(_ text: String) { writeOut(Array((text + "\n").utf8)) }
}

/// Exit statuses shared by every command.
public enum ExitStatus {
    public static let success: Int32 = 0
    /// Some objects were rejected; the rest was translated (and written).
    public static let partial: Int32 = 1
    /// Nothing could be translated: usage error, unreadable input, YAML syntax error, unwritable output.
    public static let failure: Int32 = 2
}

/// The start every pipeline command shares: its options parsed (the shared translation options included), and
/// `--help` and usage errors answered. nil means the command is finished and `exitStatus` says how.
struct CommandStart {
    let parsed: ArgumentParser
    let options: TranslationOptions

    static func parse(
        _ name: String, _ arguments: [String], options table: [ArgumentParser.Option], usage: String, io: CommandIO,
        exitStatus: inout Int32
    ) -> CommandStart? {
        do {
            let parsed = try ArgumentParser(options: table, arguments: arguments)
            let options = try TranslationOptions(parsed)
            if parsed.has("--help") {
                io.out(usage)
                exitStatus = ExitStatus.success
                return nil
            }
            return CommandStart(parsed: parsed, options: options)
        } catch {
            io.writeErr("attache \(name): \(error.message)\n\(usage)")
            exitStatus = ExitStatus.failure
            return nil
        }
    }
}

/// Takes a snapshot of `source`, runs the pipeline and prints its diagnostics: the middle of rollout and explain.
/// The snapshot comes back too, for commands that translate it again with other options.
func loadAndTranslate(_ source: InputSource, options: TranslationOptions, io: CommandIO) -> (translation: Translation, inputs: InputSnapshot) {
    let inputs = source.snapshot()
    let translation = translate(inputs.sources, options: options, loadDiagnostics: inputs.diagnostics)
    for diagnostic in translation.diagnostics { io.writeErr(diagnostic.description) }
    return (translation, inputs)
}
