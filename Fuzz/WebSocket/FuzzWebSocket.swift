// libFuzzer target: the incremental WebSocket frame parser (`WebSocketFrameParser`).
// Built by scripts/fuzz.sh with Sources/ShimmyServer/WebSocket/WebSocketFrame{,Parser}.swift; not in the package.
//
// Byte 0 picks the message limit (default or tiny), byte 1 the chunk size the rest is fed in. The bytes are also
// parsed in one piece; both runs must give the same messages and the same error. A difference stops the fuzzer.

/// Keeps results from being optimized away.
nonisolated(unsafe) var fuzzSink = 0

/// What one parse produced: the messages, then the error that ended it (or nil: more bytes needed).
struct WebSocketParseOutcome: Equatable {
    var messages: [WebSocketMessage] = []
    var error: WebSocketParseError?
}

func parseWebSocket(_ bytes: ArraySlice<UInt8>, maxMessageBytes: Int, chunk: Int) -> WebSocketParseOutcome {
    var parser = WebSocketFrameParser(maxMessageBytes: maxMessageBytes)
    var outcome = WebSocketParseOutcome()
    var start = bytes.startIndex
    repeat {
        let end = min(bytes.endIndex, start + chunk)
        parser.feed(bytes[start..<end])
        start = end
        do {
            while let message = try parser.next() { outcome.messages.append(message) }
        } catch {
            fuzzSink &+= Int(error.closeCode) + error.description.utf8.count
            outcome.error = error
            return outcome
        }
    } while start < bytes.endIndex
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocket(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let limit = bytes[0] & 1 == 0 ? 1024 * 1024 : Int(bytes[0]) * 2
    let chunk = Int(bytes[1] % 16) + 1
    let input = bytes[2...]
    let whole = parseWebSocket(input, maxMessageBytes: limit, chunk: max(1, input.count))
    let pieces = parseWebSocket(input, maxMessageBytes: limit, chunk: chunk)
    guard whole == pieces else {
        print("whole: \(whole)\npieces of \(chunk): \(pieces)")
        fatalError("WebSocketFrameParser gave different results for different chunkings")
    }
    // Frames the server writes must parse back (masked, as a client sends them).
    for message in whole.messages {
        guard case .text(let text) = message else { continue }
        var echo = WebSocketFrameParser()
        echo.feed(WebSocketFrame.text(text).encoded(maskingKey: [1, 2, 3, 4]))
        guard (try? echo.next()) == .some(.text(text)) else { fatalError("text frame did not round-trip") }
    }
    return 0
}
