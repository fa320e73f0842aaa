/// Checks that a regex is one Envoy's RE2 engine accepts, so that one bad Mapping cannot make Envoy reject the
/// whole config.
///
/// A syntax check written for RE2's grammar rather than borrowed from Foundation: ICU (behind
/// NSRegularExpression) accepts things RE2 refuses (lookaround, backreferences, possessive quantifiers) and refuses
/// things RE2 accepts (`(?P<name>...)`), and on Linux it leaked 10 KB per long pattern, which a long-running sidecar
/// cannot afford. It does not compile the regex; it rejects what RE2's parser rejects.
enum RE2Check {
    /// nil when RE2 would accept `regex` within `maxProgramSize`, else what is wrong.
    ///
    /// Envoy refuses a regex whose compiled RE2 program is larger than its `re2.max_program_size.error_level`
    /// (Attaché sets it to the Module's `regex_max_size`, 200 by default as in Emissary), and with it the whole
    /// config; so the size is estimated here, never below what RE2 counts (see RE2OracleTests).
    static func problem(in regex: String, maxProgramSize: Int = AmbassadorDefaults.regexMaxProgramSize) -> String? {
        if let problem = syntaxProblem(in: regex) { return problem }
        let size = estimatedProgramSize(Array(regex.unicodeScalars))
        return size > maxProgramSize ? sizeProblem(size: size, limit: maxProgramSize) : nil
    }

    /// What RE2's grammar (or Envoy: an empty regex) refuses in `regex`; nil when it parses. Needs nothing but the
    /// regex, so decoding checks it; the program size is checked once the Module's limit is known (`sizeProblem`).
    static func syntaxProblem(in regex: String) -> String? {
        // Envoy's RegexMatcher requires a non-empty regex (validate.rules min_len: 1).
        if regex.isEmpty { return "it is empty (Envoy refuses an empty regex; write `.*` to match anything)" }
        var parser = RE2SyntaxParser(Array(regex.unicodeScalars))
        return parser.check()
    }

    /// Why a regex whose program is about `size` instructions cannot pass a limit of `limit`.
    static func sizeProblem(size: Int, limit: Int) -> String {
        "its RE2 program would be about \(size) instructions, over the limit of \(limit) (the Module's `regex_max_size`); Envoy would refuse the whole config"
    }

    /// An upper estimate of RE2's program size: per atom (ASCII literal 1, a UTF-8 literal its byte count, `.` 2,
    /// `\w`/`\s` and their negations 3, a class 2, or 10 with non-ASCII members, `\p` 16), a capture group +2,
    /// `|` +1, `*`/`+`/`?` +1, `{n,m}` repeats its operand max(n, m) times, and 4 for the program's frame.
    /// Only called on a regex that passed the syntax check.
    static func estimatedProgramSize(_ s: [Unicode.Scalar]) -> Int {
        // Sizes saturate: nested repeats (`((a{1000}){1000})...`) would overflow any integer long before they matter.
        let ceiling = 1 << 40
        func sum(_ a: Int, _ b: Int) -> Int { min(ceiling, a + b) }
        var stack: [(total: Int, capture: Bool)] = [(0, false)]
        var lastAtom = 0
        var i = 0
        func add(_ n: Int) {
            stack[stack.count - 1].total = sum(stack[stack.count - 1].total, n)
            lastAtom = n
        }
        while i < s.count {
            let c = s[i]
            switch c {
            case "(":
                if i + 1 < s.count, s[i + 1] == "?" {
                    // Flags alone, or a non-capturing / named group.
                    var j = i + 2
                    while j < s.count, s[j] != ")", s[j] != ":", s[j] != ">" { j += 1 }
                    if j < s.count, s[j] == ")" {
                        i = j + 1
                        lastAtom = 0
                        continue
                    }
                    stack.append((0, j < s.count && s[j] == ">"))
                    i = j + 1
                    continue
                }
                stack.append((0, true))
                i += 1
                continue
            case ")":
                let group = stack.count > 1 ? stack.removeLast() : (total: 0, capture: false)
                add(sum(group.total, group.capture ? 2 : 0))
            case "|", "*", "+", "?":
                stack[stack.count - 1].total = sum(stack[stack.count - 1].total, 1)
                lastAtom = 0
            case "{":
                var j = i + 1, low = 0, high = -1, digits = 0
                while j < s.count, ("0"..."9").contains(s[j]) {
                    low = min(low * 10 + Int(s[j].value - 48), 1000)
                    j += 1
                    digits += 1
                }
                if digits > 0, j < s.count, s[j] == "," {
                    j += 1
                    var value = 0, more = 0
                    while j < s.count, ("0"..."9").contains(s[j]) {
                        value = min(value * 10 + Int(s[j].value - 48), 1000)
                        j += 1
                        more += 1
                    }
                    high = more > 0 ? value : low + 1
                }
                if digits > 0, j < s.count, s[j] == "}" {
                    let copies = max(low, high, 1)
                    let repeated = lastAtom.multipliedReportingOverflow(by: copies - 1)
                    stack[stack.count - 1].total = sum(
                        stack[stack.count - 1].total,
                        sum(repeated.overflow ? ceiling : min(ceiling, repeated.partialValue), max(0, high - low)))
                    lastAtom = 0
                    i = j + 1
                    continue
                }
                add(1)
            case "[":
                var j = i + 1, nonASCII = false
                if j < s.count, s[j] == "^" { j += 1 }
                if j < s.count, s[j] == "]" { j += 1 }
                while j < s.count, s[j] != "]" {
                    if s[j] == "\\" { j += 1 }
                    if j < s.count, s[j].value > 127 { nonASCII = true }
                    j += 1
                }
                add(nonASCII ? 10 : 2)
                i = j + 1
                continue
            case "\\":
                let e = i + 1 < s.count ? s[i + 1] : "\\"
                switch e {
                case "w", "W", "s", "S": add(3)
                case "d", "D": add(2)
                case "p", "P":
                    add(16)
                    if i + 2 < s.count, s[i + 2] == "{" {
                        var j = i + 2
                        while j < s.count, s[j] != "}" { j += 1 }
                        i = j + 1
                        continue
                    }
                    i += 3
                    continue
                case "x":
                    add(2)
                    if i + 2 < s.count, s[i + 2] == "{" {
                        var j = i + 2
                        while j < s.count, s[j] != "}" { j += 1 }
                        i = j + 1
                    } else {
                        i += 4
                    }
                    continue
                case "Q":
                    var j = i + 2
                    while j + 1 < s.count, !(s[j] == "\\" && s[j + 1] == "E") {
                        add(String(s[j]).utf8.count)
                        j += 1
                    }
                    i = j + 2
                    continue
                default: add(1)
                }
                i += 2
                continue
            case ".": add(2)
            case "^", "$": add(1)
            default: add(String(c).utf8.count)
            }
            i += 1
        }
        while stack.count > 1 {
            let group = stack.removeLast()
            stack[stack.count - 1].total = sum(stack[stack.count - 1].total, sum(group.total, 2))
        }
        return sum(stack[0].total, 4)
    }
}

private struct RE2SyntaxParser {
    let s: [Unicode.Scalar]
    var i = 0
    /// Open groups; and whether the last thing parsed can take a repetition operator.
    var depth = 0
    var canRepeat = false

    init(_ scalars: [Unicode.Scalar]) { s = scalars }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

    mutating func check() -> String? {
        while let c = peek() {
            switch c {
            case "(":
                i += 1
                if peek() == "?" {
                    if let problem = groupFlags() { return problem }
                } else {
                    depth += 1
                    canRepeat = false
                }
                if depth > 1000 { return "more than 1000 nested groups" }
            case ")":
                guard depth > 0 else { return "unexpected `)` at \(i + 1)" }
                depth -= 1
                i += 1
                canRepeat = true
            case "|":
                i += 1
                canRepeat = false
            case "*", "+", "?":
                guard canRepeat else { return "missing argument to repetition operator `\(c)` at \(i + 1)" }
                i += 1
                if peek() == "?" { i += 1 }  // non-greedy
                if let next = peek(), next == "*" || next == "+" || next == "?" {
                    return "bad repetition operator `\(c)\(next)` at \(i)"
                }
                canRepeat = false
            case "{":
                if let count = repeatCount() {
                    guard canRepeat else { return "missing argument to repetition operator `{` at \(i + 1)" }
                    guard count.max <= 1000, count.min <= count.max else { return "bad repetition count at \(i + 1)" }
                    i = count.end
                    if peek() == "?" { i += 1 }
                    if let next = peek(),
                        next == "*" || next == "+" || next == "?" || (next == "{" && repeatCount() != nil)
                    {
                        return "bad repetition operator at \(i + 1)"
                    }
                    canRepeat = false
                } else {
                    i += 1  // a `{` that does not start a count is a literal
                    canRepeat = true
                }
            case "[":
                if let problem = characterClass() { return problem }
                canRepeat = true
            case "\\":
                if let problem = escape(inClass: false) { return problem }
            case "^", "$":
                i += 1
                canRepeat = true  // RE2 allows repeating an empty-width assertion
            default:
                i += 1
                canRepeat = true
            }
        }
        return depth == 0 ? nil : "missing `)`"
    }

    /// After `(?`: flags `(?i)`, `(?i-s:...)`, named groups `(?P<name>...)` / `(?<name>...)`. Lookaround and
    /// atomic groups are refused by name.
    mutating func groupFlags() -> String? {
        let start = i
        i += 1  // past `?`
        switch peek() {
        case "=": return "RE2 does not support lookahead `(?=` at \(start)"
        case "!": return "RE2 does not support negative lookahead `(?!` at \(start)"
        case ">": return "RE2 does not support atomic groups `(?>` at \(start)"
        case "<" where peek(1) == "=" || peek(1) == "!": return "RE2 does not support lookbehind `(?<` at \(start)"
        case "P" where peek(1) == "<", "<":
            i += peek() == "P" ? 2 : 1
            var name = 0
            while let c = peek(), c != ">" {
                guard c == "_" || c.properties.isAlphabetic || ("0"..."9").contains(c) else {
                    return "invalid named capture group at \(start)"
                }
                name += 1
                i += 1
            }
            guard peek() == ">", name > 0 else { return "invalid named capture group at \(start)" }
            i += 1
            depth += 1
            canRepeat = false
            return nil
        default:
            var sawFlag = false, sawMinus = false
            while let c = peek() {
                switch c {
                case "i", "m", "s", "U":
                    sawFlag = true
                    i += 1
                case "-":
                    guard !sawMinus else { return "invalid or unsupported Perl syntax at \(start)" }
                    sawMinus = true
                    sawFlag = false
                    i += 1
                case ")":
                    guard sawFlag || !sawMinus, i > start + 1 else {
                        return "invalid or unsupported Perl syntax at \(start)"
                    }
                    i += 1  // (?flags) applies to the rest; it is not a group
                    canRepeat = false
                    return nil
                case ":":
                    guard !sawMinus || sawFlag else { return "invalid or unsupported Perl syntax at \(start)" }
                    i += 1
                    depth += 1
                    canRepeat = false
                    return nil
                default:
                    return "invalid or unsupported Perl syntax `(?\(c)` at \(start)"
                }
            }
            return "missing `)`"
        }
    }

    /// `{n}`, `{n,}` or `{n,m}` starting at `i`; nil when the text is not a count (then `{` is a literal).
    func repeatCount() -> (min: Int, max: Int, end: Int)? {
        var j = i + 1
        func number() -> Int? {
            var value = 0, digits = 0
            while j < s.count, ("0"..."9").contains(s[j]) {
                value = min(value * 10 + Int(s[j].value - 48), 100_000)
                digits += 1
                j += 1
            }
            return digits > 0 ? value : nil
        }
        guard let low = number() else { return nil }
        var high = low
        if j < s.count, s[j] == "," {
            j += 1
            high = number() ?? 1000  // {n,} has no upper bound; only its lower one is checked
        }
        guard j < s.count, s[j] == "}" else { return nil }
        return (low, high, j + 1)
    }

    /// `[...]`, with negation, a leading `]`, ranges, escapes and `[:name:]` classes.
    mutating func characterClass() -> String? {
        let start = i
        i += 1
        if peek() == "^" { i += 1 }
        var first = true
        var previous: Unicode.Scalar?
        while let c = peek() {
            if c == "]" && !first {
                i += 1
                return nil
            }
            first = false
            if c == "[" && peek(1) == ":" {
                guard
                    let close = (i + 2..<s.count).first(where: { s[$0] == ":" && $0 + 1 < s.count && s[$0 + 1] == "]" })
                else {
                    return "missing closing `:]` at \(i + 1)"
                }
                i = close + 2
                previous = nil
                continue
            }
            var literal: Unicode.Scalar? = c
            if c == "\\" {
                let escapeStart = i
                if let problem = escape(inClass: true) { return problem }
                literal = i == escapeStart + 2 ? s[escapeStart + 1] : nil
            } else {
                i += 1
            }
            if literal == "-", let low = previous, let high = peek(), high != "]" {
                var upper = high
                if high == "\\" {
                    let escapeStart = i
                    if let problem = escape(inClass: true) { return problem }
                    upper = s[escapeStart + 1]
                } else {
                    i += 1
                }
                guard low.value <= upper.value else { return "invalid character class range `\(low)-\(upper)` at \(i)" }
                previous = nil
                continue
            }
            previous = literal
        }
        return "missing closing `]` for the class at \(start + 1)"
    }

    /// A backslash escape at `i`.
    mutating func escape(inClass: Bool) -> String? {
        let start = i
        i += 1
        guard let c = peek() else { return "trailing `\\`" }
        i += 1
        canRepeat = true
        switch c {
        case "1"..."9":
            return "RE2 does not support backreferences `\\\(c)` at \(start + 1)"
        case "d", "D", "s", "S", "w", "W", "a", "f", "t", "n", "r", "v", "0":
            return nil
        case "b", "B", "A", "z":
            if inClass { return "invalid escape `\\\(c)` in a character class at \(start + 1)" }
            return nil
        case "C":
            return nil
        case "Q":
            if inClass { return "invalid escape `\\Q` in a character class at \(start + 1)" }
            while i < s.count, !(s[i] == "\\" && i + 1 < s.count && s[i + 1] == "E") { i += 1 }
            if i < s.count { i += 2 }
            return nil
        case "E":
            return nil
        case "x":
            if peek() == "{" {
                guard let close = (i..<s.count).first(where: { s[$0] == "}" }), close > i + 1,
                    s[(i + 1)..<close].allSatisfy({ $0.properties.isASCIIHexDigit })
                else { return "invalid escape `\\x{` at \(start + 1)" }
                // Envoy's RE2 refuses `\x{...}` above FF (checked against Envoy 1.40: \x{ff} passes, \x{100} fails).
                let digits = String(String.UnicodeScalarView(s[(i + 1)..<close]))
                guard digits.count <= 8, let value = UInt32(digits, radix: 16), value <= 0xFF else {
                    return "invalid escape `\\x{\(digits)}` at \(start + 1): Envoy's RE2 accepts \\x{...} up to FF only"
                }
                i = close + 1
                return nil
            }
            guard let h1 = peek(), let h2 = peek(1), h1.properties.isASCIIHexDigit, h2.properties.isASCIIHexDigit else {
                return "invalid escape `\\x` at \(start + 1)"
            }
            i += 2
            return nil
        case "p", "P":
            if peek() == "{" {
                guard let close = (i..<s.count).first(where: { s[$0] == "}" }), close > i + 1 else {
                    return "invalid character class `\\\(c){` at \(start + 1)"
                }
                i = close + 1
            } else {
                guard peek() != nil else { return "invalid character class `\\\(c)` at \(start + 1)" }
                i += 1
            }
            return nil
        default:
            // Punctuation may be escaped; an escaped letter or digit RE2 does not know is an error.
            if c.properties.isAlphabetic || ("0"..."9").contains(c) || c.value > 127 {
                return "invalid escape `\\\(c)` at \(start + 1)"
            }
            return nil
        }
    }
}
