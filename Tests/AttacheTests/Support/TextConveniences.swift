@testable import Attache

// Text in and out for tests: the product reads and writes bytes, tests mostly write and compare strings.

extension SourceFile {
    /// An input whose bytes are `text`, as UTF-8.
    init(name: String, text: String) {
        self.init(name: name, bytes: Array(text.utf8))
    }
}

extension JSONWriter {
    /// The rendering of `value`, with its final newline, as a string.
    static func string(_ value: some JSONRepresentable) -> String {
        String(decoding: render(value), as: UTF8.self)
    }
}
