/// Recognizes one JSON object (RFC 8259) a byte at a time: whether the bytes so far can begin one, and whether they
/// are a whole one. JSON mode's sampling uses it to keep only the tokens that leave the output a prefix of a JSON
/// object, as llama.cpp's JSON grammar does (`grammars/json.gbnf`): the object starts at the first byte, with no
/// whitespace before it, and nothing may follow it.
///
/// The state is a few bytes with no storage of its own, so trying a token on a copy costs nothing to copy:
///
/// ```swift
/// var json = JSONRecognizer()
/// var trial = json
/// if trial.feed(Array("{\"a\": [1, tr".utf8)) { json = trial }   // a prefix of an object
/// json.isComplete                                                 // false: the object is still open
/// ```
///
/// Limits, as JSON mode needs them: nesting up to 64 levels; a run of whitespace up to 21 bytes (a model can
/// otherwise emit newlines for ever; llama.cpp's grammar allows a newline and 20 spaces or tabs); strings may hold any byte from 0x20 up
/// (UTF-8 is not checked: a token may end inside a character).
public struct JSONRecognizer: Sendable, Equatable {
    private enum Mode: UInt8 {
        /// Before the object's `{`.
        case start
        /// A value: after `:`, or after `,` in an array.
        case value
        /// After `[`: a value or `]`.
        case arrayStart
        /// After `{`: a key or `}`.
        case objectStart
        /// After `,` in an object: a key.
        case key
        /// After a key: `:`.
        case colon
        /// After a value in a container: `,` or the closing bracket.
        case afterValue
        /// Inside a string (`isKey`: an object's key).
        case string
        /// After a backslash in a string.
        case escape
        /// Inside `\uXXXX`, `count` hex digits read.
        case unicode
        /// Inside a number, `number` the phase.
        case number
        /// Inside `true`, `false` or `null`: `literal` is the word, `count` the bytes read.
        case literal
        /// The object is whole; nothing may follow.
        case done
    }

    /// Where a number is: each phase says what may come next.
    private enum NumberPhase: UInt8 {
        case minus, zero, integer, dot, fraction, exponent, exponentSign, exponentDigits

        /// Whether the number may end here.
        var canEnd: Bool { self == .zero || self == .integer || self == .fraction || self == .exponentDigits }
    }

    private static let literals: [[UInt8]] = [Array("true".utf8), Array("false".utf8), Array("null".utf8)]
    /// Most nesting levels.
    public static let maxDepth = 64
    /// Most whitespace bytes in a row: room for a newline and 20 spaces or tabs, as llama.cpp's `json.gbnf`.
    public static let maxWhitespaceRun = 21

    private var mode = Mode.start
    private var number = NumberPhase.minus
    private var isKey = false
    private var literal: UInt8 = 0
    private var count: UInt8 = 0
    private var whitespace: UInt8 = 0
    private var depth: UInt8 = 0
    /// Bit i: whether level i is an object (else an array).
    private var objects: UInt64 = 0

    public init() {}

    /// Whether the bytes fed so far are a whole JSON object.
    public var isComplete: Bool { mode == .done }

    /// Feeds `bytes`; false when they cannot continue a JSON object (the state is then undefined: feed a copy).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> Bool {
        for byte in bytes where !feed(byte) { return false }
        return true
    }

    /// Feeds one byte; false when it cannot continue a JSON object (the state is then undefined).
    public mutating func feed(_ byte: UInt8) -> Bool {
        var numberEnded = false
        return step(byte, numberEnded: &numberEnded) != .rejected
    }

    /// What one byte was in the text, for a schema to check (`SchemaRecognizer`).
    enum Step: Equatable {
        case rejected
        case whitespace
        /// The first byte of an object or array value.
        case open
        /// The `}` or `]` that closes the innermost container.
        case close
        case comma
        case colon
        /// The opening quote of an object's key.
        case keyOpen
        /// A byte inside a key, as written (escapes too).
        case keyByte
        /// The closing quote of a key.
        case keyClose
        /// The first byte of a string, number, `true`, `false` or `null` value.
        case scalarStart
        /// A later byte of such a value; `ends`: the value is whole with it (a string's closing quote, a word's
        /// last letter; a number ends only at the byte after it, `numberEnded`).
        case scalarByte(ends: Bool)
    }

    /// Whether the innermost open container is an object.
    var inObject: Bool { depth > 0 && objects & (1 << UInt64(depth - 1)) != 0 }

    /// Feeds one byte and says what it was; `numberEnded` is set when a number value ended just before it.
    mutating func step(_ byte: UInt8, numberEnded: inout Bool) -> Step {
        switch mode {
        case .string:
            if isKey {
                if byte == UInt8(ascii: "\"") {
                    mode = .colon
                    whitespace = 0
                    return .keyClose
                }
                return stringByte(byte) ? .keyByte : .rejected
            }
            return stringByte(byte) ? .scalarByte(ends: mode == .afterValue || mode == .done) : .rejected
        case .escape:
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                mode = .string
            case UInt8(ascii: "u"):
                mode = .unicode
                count = 0
            default: return .rejected
            }
            return isKey ? .keyByte : .scalarByte(ends: false)
        case .unicode:
            guard Self.isHexDigit(byte) else { return .rejected }
            count += 1
            if count == 4 { mode = .string }
            return isKey ? .keyByte : .scalarByte(ends: false)
        case .number:
            if numberByte(byte) { return .scalarByte(ends: false) }
            guard number.canEnd else { return .rejected }
            mode = .afterValue
            whitespace = 0
            numberEnded = true
            return step(byte, numberEnded: &numberEnded)
        case .literal:
            let word = Self.literals[Int(literal)]
            guard byte == word[Int(count)] else { return .rejected }
            count += 1
            if Int(count) == word.count {
                endValue()
                return .scalarByte(ends: true)
            }
            return .scalarByte(ends: false)
        case .done:
            return .rejected
        default:
            break
        }
        // between tokens: whitespace, bounded, where JSON allows it (not before the object)
        if Self.isWhitespace(byte) {
            guard mode != .start, whitespace < Self.maxWhitespaceRun else { return .rejected }
            whitespace += 1
            return .whitespace
        }
        whitespace = 0
        switch mode {
        case .start:
            return byte == UInt8(ascii: "{") && open(object: true) ? .open : .rejected
        case .value, .arrayStart:
            if mode == .arrayStart && byte == UInt8(ascii: "]") { return close(object: false) ? .close : .rejected }
            return beginValue(byte)
        case .objectStart, .key:
            if mode == .objectStart && byte == UInt8(ascii: "}") { return close(object: true) ? .close : .rejected }
            guard byte == UInt8(ascii: "\"") else { return .rejected }
            mode = .string
            isKey = true
            return .keyOpen
        case .colon:
            guard byte == UInt8(ascii: ":") else { return .rejected }
            mode = .value
            return .colon
        case .afterValue:
            switch byte {
            case UInt8(ascii: ","): mode = inObject ? .key : .value
            case UInt8(ascii: "}"): return inObject && close(object: true) ? .close : .rejected
            case UInt8(ascii: "]"): return !inObject && close(object: false) ? .close : .rejected
            default: return .rejected
            }
            return .comma
        default:
            return .rejected
        }
    }

    /// The first byte of a value.
    private mutating func beginValue(_ byte: UInt8) -> Step {
        switch byte {
        case UInt8(ascii: "{"): return open(object: true) ? .open : .rejected
        case UInt8(ascii: "["): return open(object: false) ? .open : .rejected
        case UInt8(ascii: "\""):
            mode = .string
            isKey = false
        case UInt8(ascii: "-"):
            mode = .number
            number = .minus
        case UInt8(ascii: "0"):
            mode = .number
            number = .zero
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            mode = .number
            number = .integer
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            mode = .literal
            literal = byte == UInt8(ascii: "t") ? 0 : byte == UInt8(ascii: "f") ? 1 : 2
            count = 1
        default:
            return .rejected
        }
        return .scalarStart
    }

    private mutating func stringByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "\""):
            endValue()
        case UInt8(ascii: "\\"): mode = .escape
        case 0..<0x20: return false
        default: break
        }
        return true
    }

    /// A byte that continues the number; false when it does not (the number may then end before it).
    private mutating func numberByte(_ byte: UInt8) -> Bool {
        let digit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        switch (number, byte) {
        case (.minus, UInt8(ascii: "0")): number = .zero
        case (.minus, _) where digit: number = .integer
        case (.integer, _) where digit: break
        case (.zero, UInt8(ascii: ".")), (.integer, UInt8(ascii: ".")): number = .dot
        case (.dot, _) where digit: number = .fraction
        case (.fraction, _) where digit: break
        case (.zero, UInt8(ascii: "e")), (.zero, UInt8(ascii: "E")), (.integer, UInt8(ascii: "e")),
             (.integer, UInt8(ascii: "E")), (.fraction, UInt8(ascii: "e")), (.fraction, UInt8(ascii: "E")):
            number = .exponent
        case (.exponent, UInt8(ascii: "+")), (.exponent, UInt8(ascii: "-")): number = .exponentSign
        case (.exponent, _) where digit, (.exponentSign, _) where digit: number = .exponentDigits
        case (.exponentDigits, _) where digit: break
        default: return false
        }
        return true
    }

    private mutating func open(object: Bool) -> Bool {
        guard Int(depth) < Self.maxDepth else { return false }
        if object { objects |= 1 << UInt64(depth) } else { objects &= ~(1 << UInt64(depth)) }
        depth += 1
        mode = object ? .objectStart : .arrayStart
        return true
    }

    private mutating func close(object: Bool) -> Bool {
        guard depth > 0, (objects & (1 << UInt64(depth - 1)) != 0) == object else { return false }
        depth -= 1
        endValue()
        return true
    }

    /// A value ended: the object is whole at depth 0, else its container goes on.
    private mutating func endValue() {
        mode = depth == 0 ? .done : .afterValue
        whitespace = 0
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }
}
