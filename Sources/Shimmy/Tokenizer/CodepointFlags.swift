/// Unicode category flags of one code point, with llama.cpp's bit layout (`unicode.h`, `unicode_cpt_flags`).
///
/// Categories come from Swift's Unicode tables; code points assigned after Unicode 15.1 count as undefined,
/// which makes the flags equal to llama.cpp's `unicode-data.cpp` for every code point (checked once against
/// the whole table, 0 differences). Whitespace is llama.cpp's fixed set, not `Unicode.Scalar.Properties.isWhitespace`.
public struct CodepointFlags: OptionSet, Sendable, Hashable {
    /// The flag bits, as `unicode_cpt_flags::as_uint()` has them.
    public let rawValue: UInt16
    /// Flags from their bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `Cn`: unassigned (in llama.cpp's Unicode version).
    public static let undefined = CodepointFlags(rawValue: 0x0001)
    /// `\p{N}`
    public static let number = CodepointFlags(rawValue: 0x0002)
    /// `\p{L}`
    public static let letter = CodepointFlags(rawValue: 0x0004)
    /// `\p{Z}`
    public static let separator = CodepointFlags(rawValue: 0x0008)
    /// `\p{M}`
    public static let accentMark = CodepointFlags(rawValue: 0x0010)
    /// `\p{P}`
    public static let punctuation = CodepointFlags(rawValue: 0x0020)
    /// `\p{S}`
    public static let symbol = CodepointFlags(rawValue: 0x0040)
    /// `\p{C}`
    public static let control = CodepointFlags(rawValue: 0x0080)
    /// `\s` as llama.cpp defines it.
    public static let whitespace = CodepointFlags(rawValue: 0x0100)

    /// The category bits alone (`category_flag()`).
    public var category: CodepointFlags { CodepointFlags(rawValue: rawValue & 0x00FF) }

    @inline(__always) var isLetter: Bool { rawValue & 0x0004 != 0 }
    @inline(__always) var isNumber: Bool { rawValue & 0x0002 != 0 }
    @inline(__always) var isWhitespace: Bool { rawValue & 0x0100 != 0 }

    /// The flags of a code point; values past U+10FFFF are undefined.
    public static func of(_ cpt: UInt32) -> CodepointFlags {
        if cpt < 128 { return asciiTable[Int(cpt)] }
        return nonASCII(cpt)
    }

    /// Flags for "no code point" (outside the current piece): no bit set.
    static var outOfRange: CodepointFlags { [] }

    private static let asciiTable: [CodepointFlags] = (0..<128).map { nonASCII(UInt32($0)) }

    private static func nonASCII(_ cpt: UInt32) -> CodepointFlags {
        guard cpt < 0x110000 else { return .undefined }
        var flags: CodepointFlags
        if let scalar = Unicode.Scalar(cpt) {
            flags = category(of: scalar)
        } else {
            flags = .control  // surrogates are Cs
        }
        if isLlamaWhitespace(cpt) { flags.insert(.whitespace) }
        return flags
    }

    private static func category(of scalar: Unicode.Scalar) -> CodepointFlags {
        let properties = scalar.properties
        // llama.cpp's table predates Unicode 16: newer assignments are undefined there.
        if let age = properties.age, age.major > 15 || (age.major == 15 && age.minor > 1) { return .undefined }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .nonspacingMark, .spacingMark, .enclosingMark: return .accentMark
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return .symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return .separator
        case .control, .format, .surrogate, .privateUse: return .control
        case .unassigned: return .undefined
        @unknown default: return .undefined
        }
    }

    private static func isLlamaWhitespace(_ cpt: UInt32) -> Bool {
        switch cpt {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }
}

/// UTF-8 as llama.cpp's `unicode.cpp` reads and writes it: lenient (overlong forms and surrogates pass), and each
/// byte that starts no valid sequence becomes U+FFFD.
enum LlamaUTF8 {
    static let replacement: UInt32 = 0xFFFD

    /// `unicode_cpts_from_utf8`.
    static func codepoints<C: Collection>(_ bytes: C) -> [UInt32] where C.Element == UInt8, C.Index == Int {
        var result: [UInt32] = []
        result.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        let end = bytes.endIndex
        @inline(__always) func cont(_ k: Int) -> Bool { k < end && bytes[k] & 0xC0 == 0x80 }
        while i < end {
            let b0 = bytes[i]
            if b0 & 0x80 == 0 {
                result.append(UInt32(b0)); i += 1
            } else if b0 & 0x40 == 0 {
                result.append(replacement); i += 1
            } else if b0 & 0x20 == 0 {
                if cont(i + 1) {
                    result.append(UInt32(b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)); i += 2
                } else { result.append(replacement); i += 1 }
            } else if b0 & 0x10 == 0 {
                if cont(i + 1) && cont(i + 2) {
                    result.append(UInt32(b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F))
                    i += 3
                } else { result.append(replacement); i += 1 }
            } else if b0 & 0x08 == 0 {
                if cont(i + 1) && cont(i + 2) && cont(i + 3) {
                    result.append(UInt32(b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12
                                  | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F))
                    i += 4
                } else { result.append(replacement); i += 1 }
            } else {
                result.append(replacement); i += 1
            }
        }
        return result
    }

    /// `unicode_cpt_to_utf8` (values past U+10FFFF, which llama.cpp rejects, are written as U+FFFD).
    @inline(__always)
    static func append(_ cpt: UInt32, to out: inout [UInt8]) {
        switch cpt {
        case 0..<0x80:
            out.append(UInt8(cpt))
        case 0x80..<0x800:
            out.append(0xC0 | UInt8((cpt >> 6) & 0x1F)); out.append(0x80 | UInt8(cpt & 0x3F))
        case 0x800..<0x10000:
            out.append(0xE0 | UInt8((cpt >> 12) & 0x0F)); out.append(0x80 | UInt8((cpt >> 6) & 0x3F))
            out.append(0x80 | UInt8(cpt & 0x3F))
        case 0x10000..<0x110000:
            out.append(0xF0 | UInt8((cpt >> 18) & 0x07)); out.append(0x80 | UInt8((cpt >> 12) & 0x3F))
            out.append(0x80 | UInt8((cpt >> 6) & 0x3F)); out.append(0x80 | UInt8(cpt & 0x3F))
        default:
            append(replacement, to: &out)
        }
    }

    /// `unicode_len_utf8`: the sequence length a lead byte announces (1 for continuation bytes).
    @inline(__always)
    static func sequenceLength(lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}
