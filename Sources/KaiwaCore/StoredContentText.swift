extension JSONText {
    /// The text of content stored as one text block, `[{"type":"text","text":"…"}]` (the form
    /// `encode(_:)` writes for a plain message), read without a JSON decoder; `nil` for any
    /// other content, which a decoder reads. Opening a long conversation spent a fifth of its
    /// time decoding such blocks with `JSONDecoder`.
    public static func singleText(_ json: String) -> String? {
        var contiguous = json
        return contiguous.withUTF8 { singleText(utf8: $0) }
    }

    /// `singleText(_:)` of JSON text's bytes (a stored row's, read in place).
    public static func singleText(utf8 bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let prefix: StaticString = #"[{"type":"text","text":""#
        let suffix: StaticString = #""}]"#
        let prefixLength = prefix.utf8CodeUnitCount
        let suffixLength = suffix.utf8CodeUnitCount
        guard bytes.count >= prefixLength + suffixLength,
            prefix.withUTF8Buffer({ bytes.starts(with: $0) }),
            suffix.withUTF8Buffer({ bytes.suffix(suffixLength).elementsEqual($0) })
        else { return nil }
        return unescaped(bytes[prefixLength..<(bytes.count - suffixLength)])
    }

    /// The characters of a JSON string literal's body; `nil` when it is not one (an unescaped
    /// quote or control character, a bad escape).
    static func unescaped(_ body: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        guard body.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 < 0x20 }) else {
            return String(decoding: body, as: UTF8.self)
        }
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var index = body.startIndex
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= body.endIndex else { return nil }
            var value: UInt32 = 0
            for byte in body[at..<(at + 4)] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while index < body.endIndex {
            let byte = body[index]
            if byte == UInt8(ascii: "\"") || byte < 0x20 { return nil }
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < body.endIndex else { return nil }
            let escape = body[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                guard var code = hex4(index) else { return nil }
                index += 4
                if (0xD800...0xDBFF).contains(code) {
                    // A high surrogate must be followed by `\u` and a low one.
                    guard index + 6 <= body.endIndex, body[index] == UInt8(ascii: "\\"), body[index + 1] == UInt8(ascii: "u"),
                        let low = hex4(index + 2), (0xDC00...0xDFFF).contains(low)
                    else { return nil }
                    index += 6
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    return nil
                }
                guard let scalar = Unicode.Scalar(code) else { return nil }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                return nil
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
