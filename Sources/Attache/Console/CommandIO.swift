import Foundation

/// The outside world a command may touch: standard output and error, and standard input. Tests pass their own.
public struct CommandIO {
    public var writeOut: ([UInt8]) -> Void
    public var writeErr: (String) -> Void
    public var readIn: () -> [UInt8]

    public init(
        writeOut: @escaping ([UInt8]) -> Void, writeErr: @escaping (String) -> Void, readIn: @escaping () -> [UInt8]
    ) {
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
