import Foundation

/// `attache explain [options] PATH... [METHOD] URL [-H 'name: value']...`: where one request goes, and why.
enum ExplainCommand {
    static let options: [ArgumentParser.Option] =
        [
            .init(name: "-H", takesValue: true, help: "a request header (repeatable)", valueName: "'NAME: VALUE'"),
            .init(name: "--header", takesValue: true, help: "same as -H", valueName: "'NAME: VALUE'"),
            .init(name: "--format", takesValue: true, help: "text (default) or json", valueName: "FORMAT"),
        ]
        + routingOptionTable + kubernetesOptionTable
        + [.init(name: "--help", takesValue: false, help: "show this help")]

    static let usage = """
        usage: attache explain [options] PATH... [METHOD] URL [-H 'NAME: VALUE']...

        Translates PATH... and tells where the request goes: the route that wins, the Mapping behind it (file:line),
        every outcome with its probability (upstream, rewritten path, Host, timeout), and why the other routes that
        could have matched did not. URL: https://host/path?query, host/path or /path. Exit 0 when routed, 1 when
        Envoy would answer 404, 2 on trouble.

        options:
        \(ArgumentParser.help(options))
        """

    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]

    /// A standard method in any case, or an extension method as HTTP writes them (`PURGE`, `PROPFIND`): upper-case
    /// letters, digits, `-` and `_`.
    static func isMethod(_ word: String) -> Bool {
        if methods.contains(word.uppercased()) { return true }
        guard let first = word.unicodeScalars.first, ("A"..."Z").contains(first) else { return false }
        return word.unicodeScalars.allSatisfy {
            ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
    }

    static func run(_ arguments: [String], io: CommandIO) -> Int32 {
        // A request typed as one quoted string ("GET https://x/y -H 'a: b'") is split as a shell would.
        var status = ExitStatus.success
        guard
            let start = CommandStart.parse(
                "explain", arguments.flatMap(splitQuotedRequest), options: Self.options, usage: usage, io: io,
                exitStatus: &status)
        else {
            return status
        }
        let parsed = start.parsed
        let options = start.options
        // Paths come first (none with --kubernetes), then an optional METHOD, then the URL (always the last word).
        let wordsBeforeURL = parsed.has("--kubernetes") ? 0 : 1
        var words = parsed.positional
        guard words.count >= wordsBeforeURL + 1, let url = words.popLast() else {
            return io.usageError("explain", "give input paths, then [METHOD] URL (e.g. GET https://example.com/path)")
        }
        var method: String?
        if words.count >= wordsBeforeURL + 1, let word = words.last, isMethod(word),
            !FileManager.default.fileExists(atPath: word)
        {
            method = words.removeLast()
        }
        let request: ProbeRequest
        do {
            request = try ProbeRequest.parse(
                method: method, url: url, headers: parsed.allValues("-H") + parsed.allValues("--header"))
        } catch {
            return io.usageError("explain", error.message)
        }
        let paths = words
        let format = parsed.value("--format") ?? "text"
        guard format == "text" || format == "json" else {
            return io.usageError("explain", "--format is text or json, not \"\(format)\"")
        }
        guard let source = oneShotInputSource("explain", parsed, paths: paths, io: io, exitStatus: &status) else {
            return status
        }
        defer { source.stopIfKubernetes() }
        let translation = loadAndTranslate(source, options: options, io: io).translation
        guard translation.isComplete else { return ExitStatus.failure }
        let explanation = explain(request, in: translation.model)
        if format == "json" {
            io.writeOut(JSONWriter.render(explanation.json))
        } else {
            io.out(explanation.text)
        }
        return explanation.isRouted ? ExitStatus.success : 1
    }

    /// Splits an argument holding a whole request (it has a space and starts with a method) into words, honouring
    /// single and double quotes.
    static func splitQuotedRequest(_ argument: String) -> [String] {
        guard argument.contains(" "), let first = argument.split(separator: " ").first,
            isMethod(String(first))
        else { return [argument] }
        var words: [String] = [], current = "", quote: Character?
        for character in argument {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == " " {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
